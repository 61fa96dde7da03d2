import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';

/** The committed notebooks follow the layout of STYLE.md practice 13 and carry no outputs. */
const NOTEBOOKS = path.resolve(__dirname, '..', '..', '..', 'notebooks');
const names = fs.existsSync(NOTEBOOKS) ? fs.readdirSync(NOTEBOOKS).filter((f) => /^\d\d-.*\.ipynb$/.test(f)).sort() : [];

interface Cell {
  cell_type: 'markdown' | 'code' | 'raw';
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}
const text = (c: Cell) => (Array.isArray(c.source) ? c.source.join('') : c.source);

describe('the notebooks', () => {
  it('are the four of the series', () => {
    assert.deepEqual(names, ['01-data-generation.ipynb', '02-network.ipynb', '03-training.ipynb', '04-error-analysis.ipynb']);
  });

  for (const name of names) {
    describe(name, () => {
      const nb = JSON.parse(fs.readFileSync(path.join(NOTEBOOKS, name), 'utf8')) as { cells: Cell[]; metadata: { kernelspec?: { name: string } } };

      it('runs on the tslab kernel', () => {
        assert.equal(nb.metadata.kernelspec?.name, 'tslab');
      });

      it('is committed without outputs', () => {
        const dirty = nb.cells.filter((c) => c.cell_type === 'code' && ((c.outputs ?? []).length > 0 || c.execution_count != null));
        assert.equal(dirty.length, 0, `${dirty.length} code cells have outputs; strip them before committing`);
      });

      it('opens with a title, then one parameters cell read from the environment', () => {
        assert.equal(nb.cells[0].cell_type, 'markdown');
        assert.match(text(nb.cells[0]), /^# \d\d · /);
        assert.equal(nb.cells[1].cell_type, 'code');
        assert.match(text(nb.cells[1]), /env(Count|Number|String)\('CAPTCHA_LAB_/);
      });

      it('has sections of a heading with a few sentences and one short code cell', () => {
        const rest = nb.cells.slice(2);
        for (let i = 0; i < rest.length; i += 2) {
          assert.equal(rest[i].cell_type, 'markdown', `cell ${i + 3} should be a section's text`);
          assert.match(text(rest[i]), /^## /, `cell ${i + 3} should start with a ## heading`);
          assert.equal(rest[i + 1]?.cell_type, 'code', `cell ${i + 4} should be the section's code`);
          const lines = text(rest[i + 1]).split('\n').length;
          assert.ok(lines <= 12, `cell ${i + 4} has ${lines} lines; move the logic into src/`);
        }
      });

      it('imports the library only through the compiled dist/ link', () => {
        const sources = nb.cells.filter((c) => c.cell_type === 'code').map(text).join('\n');
        // tslab compiles only files under the notebook's folder: ../src fails with "not under rootDir".
        assert.doesNotMatch(sources, /from '\.\.\/src/);
        assert.match(sources, /from '\.\/dist\/src\/backend'/);
        // Each src folder's index is its public surface.
        assert.doesNotMatch(sources, /from '\.\/dist\/src\/[a-z]+\/[a-z-]+'/, 'import from the folder, e.g. ./dist/src/data');
      });
    });
  }
});
