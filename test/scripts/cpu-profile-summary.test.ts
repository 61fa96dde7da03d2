import { strict as assert } from 'assert';
import { formatProfileSummary, summarizeCpuProfile, type CpuProfile } from '../../scripts/cpu-profile-summary';

const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 } },
    { id: 2, callFrame: { functionName: 'compileProgram', url: 'file:///r/node_modules/@tensorflow/tfjs-backend-webgpu/dist/b.js', lineNumber: 618 } },
    { id: 3, callFrame: { functionName: 'runWebGPUProgram', url: 'file:///r/node_modules/@tensorflow/tfjs-backend-webgpu/dist/b.js', lineNumber: 1928 } },
    { id: 4, callFrame: { functionName: '', url: '/r/dist/src/models/ctc.js', lineNumber: 9 } },
    { id: 5, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1 } },
  ],
  samples: [2, 2, 3, 4, 5, 2, 99],
  timeDeltas: [1000, 2000, 500, 250, 4000, 1000, 700],
};

describe('cpu-profile-summary (host-side profiles)', () => {
  it('sums self time by file and by function, largest first, and skips samples of unknown nodes', () => {
    const s = summarizeCpuProfile(PROFILE);
    assert.equal(s.totalMs, 8.75);
    assert.deepEqual(s.byFile, [
      ['@tensorflow/tfjs-backend-webgpu/dist/b.js', 4.5],
      ['(garbage collector)', 4],
      ['/r/dist/src/models/ctc.js', 0.25],
    ]);
    // equal times keep the order of first appearance
    assert.deepEqual(s.byFunction[0], ['compileProgram @tensorflow/tfjs-backend-webgpu/dist/b.js:619', 4]);
    assert.deepEqual(s.byFunction[1], ['(garbage collector)', 4]);
    assert.deepEqual(s.byFunction[3], ['(anonymous) /r/dist/src/models/ctc.js:10', 0.25]);
  });

  it('prints shares of the total, and refuses what is not a profile', () => {
    const lines = formatProfileSummary(summarizeCpuProfile(PROFILE), 1);
    assert.deepEqual(lines.slice(0, 3), ['total 9 ms sampled', 'by file (self time):', '       5 ms  51.4%  @tensorflow/tfjs-backend-webgpu/dist/b.js']);
    assert.equal(lines.length, 5);
    assert.throws(() => summarizeCpuProfile({} as CpuProfile), /not a \.cpuprofile/);
  });
});
