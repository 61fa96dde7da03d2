import { strict as assert } from 'assert';
import { createNotebookDisplay, plotlyHtml, PLOTLY_MIME, tslabSink, type DisplaySink, type MimeBundle, type PlotlyFigure } from '../../src/viz';

function recorder() {
  const calls: Array<{ bundle: MimeBundle; displayId?: string; update: boolean }> = [];
  const sink: DisplaySink = (bundle, target) => calls.push({ bundle, ...target });
  return { calls, sink };
}

const figure: PlotlyFigure = { data: [{ type: 'scatter', name: 'loss', x: [1], y: [2] }], layout: { title: { text: 'Loss' }, height: 300 } };
const PNG_1x1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

describe('createNotebookDisplay', () => {
  it('sends a figure as one bundle: plotly JSON, an HTML fallback and a text line', () => {
    const { calls, sink } = recorder();
    createNotebookDisplay({ sink, plotlyUrl: 'https://example.org/plotly.min.js' }).plot(figure);
    assert.equal(calls.length, 1);
    const { bundle } = calls[0];
    assert.deepEqual(Object.keys(bundle).sort(), [PLOTLY_MIME, 'text/html', 'text/plain'].sort());
    assert.deepEqual((bundle[PLOTLY_MIME] as PlotlyFigure).data, figure.data);
    assert.match(bundle['text/html'] as string, /example\.org\/plotly\.min/);
    assert.equal(bundle['text/plain'], "Plotly figure 'Loss': loss");
    assert.equal(calls[0].update, false);
  });

  it('sends PNGs as base64 with their size as text', () => {
    const { calls, sink } = recorder();
    createNotebookDisplay({ sink }).png(PNG_1x1);
    assert.equal(calls[0].bundle['image/png'], PNG_1x1.toString('base64'));
    assert.equal(calls[0].bundle['text/plain'], '<PNG image 1x1>');
  });

  it('refuses bytes that are not a PNG', () => {
    const { sink } = recorder();
    assert.throws(() => createNotebookDisplay({ sink }).png(new Uint8Array(30)), /not a PNG/);
  });

  it('renders tables as HTML and text', () => {
    const { calls, sink } = recorder();
    createNotebookDisplay({ sink }).table([{ a: 1 }]);
    assert.match(calls[0].bundle['text/html'] as string, /<table/);
    assert.equal(calls[0].bundle['text/plain'], 'a\n1');
  });

  it('updates a live output in place: first display, then updates of the same id', () => {
    const { calls, sink } = recorder();
    const show = createNotebookDisplay({ sink });
    const line = show.live();
    line.text('epoch 1');
    line.text('epoch 2');
    const other = show.live();
    other.text('x');
    assert.deepEqual(calls.map((c) => c.update), [false, true, false]);
    assert.ok(calls[0].displayId);
    assert.equal(calls[1].displayId, calls[0].displayId);
    assert.notEqual(calls[2].displayId, calls[0].displayId);
  });
});

describe('plotlyHtml', () => {
  it('keeps figure text from closing the script element', () => {
    const html = plotlyHtml({ data: [{ type: 'scatter', name: '</script><b>' }], layout: {} });
    assert.equal((html.match(/<\/script>/g) ?? []).length, 1);
  });
});

describe('tslabSink', () => {
  it('says so when used outside a running tslab kernel', () => {
    assert.throws(() => tslabSink()({ 'text/plain': 'x' }, { update: false }), /notebook display works only inside a running tslab kernel/);
  });
});
