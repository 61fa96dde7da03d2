import { strict as assert } from 'assert';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { acquireFolderLock, FOLDER_LOCK_FILE } from '../../src/files';
import { LEFTOVER_AFTER_MS } from '../../src/files/lock';

const lockModule = path.join(__dirname, '../../src/files/lock.js');

/** A second node process that takes the lock on `dir`, says 'locked', and holds it until killed. */
async function holder(dir: string): Promise<ChildProcess> {
  const script = `require(${JSON.stringify(lockModule)}).acquireFolderLock(${JSON.stringify(dir)}, 'test'); console.log('locked'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return child;
}

/** The lock a process that has exited left behind: its pid is no longer running. */
function deadLock(): string {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  return JSON.stringify({ pid, host: os.hostname(), command: 'gone', since: '' }) + '\n';
}

/** Sets `file`'s modification time `ms` into the past. */
function age(file: string, ms: number): void {
  const then = (Date.now() - ms) / 1000;
  fs.utimesSync(file, then, then);
}

/**
 * `n` node processes that all try to lock `dir` at the same moment (once `go` exists); each
 * answers 'locked' (and holds the lock until killed) or 'refused'.
 */
async function race(dir: string, n: number): Promise<{ answers: string[]; children: ChildProcess[] }> {
  const go = path.join(os.tmpdir(), `lock-go-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const script = `const fs = require('fs'); console.log('ready');
    while (!fs.existsSync(${JSON.stringify(go)})) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    try { require(${JSON.stringify(lockModule)}).acquireFolderLock(${JSON.stringify(dir)}, 'test'); console.log('locked'); setInterval(() => {}, 1000); }
    catch (err) { console.log(/is in use by another test/.test(err.message) ? 'refused' : err.message); }`;
  const children = Array.from({ length: n }, () => spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const said = (child: ChildProcess, word: RegExp) =>
    new Promise<string>((resolve) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').map((l) => l.trim()).find((l) => word.test(l));
        if (line) resolve(line);
      });
    });
  const answered = children.map((child) => said(child, /^(?!ready$)./));
  await Promise.all(children.map((child) => said(child, /^ready$/)));
  fs.writeFileSync(go, '');
  try {
    return { answers: await Promise.all(answered), children };
  } finally {
    fs.rmSync(go, { force: true });
  }
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

describe('acquireFolderLock', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lock-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a folder another live process holds, naming its pid and the fix', async () => {
    const child = await holder(dir);
    try {
      assert.throws(
        () => acquireFolderLock(dir, 'generate'),
        new RegExp(`is in use by another generate \\(pid ${child.pid} on ${os.hostname()}.*wait for it to finish or stop it \\(kill ${child.pid}\\)`),
      );
    } finally {
      await kill(child, 'SIGTERM');
    }
  });

  it('takes over the lock of a process that was killed', async () => {
    const child = await holder(dir);
    await kill(child, 'SIGKILL');
    assert.ok(fs.existsSync(path.join(dir, FOLDER_LOCK_FILE)), 'a killed holder leaves its lock behind');
    const release = acquireFolderLock(dir, 'generate');
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, FOLDER_LOCK_FILE), 'utf8')).pid, process.pid);
    release();
  });

  it('removes its lock on release, so the folder can be locked again', () => {
    const release = acquireFolderLock(dir, 'train');
    assert.throws(() => acquireFolderLock(dir, 'train'), /is in use by another train/);
    release();
    assert.ok(!fs.existsSync(path.join(dir, FOLDER_LOCK_FILE)));
    acquireFolderLock(dir, 'train')();
  });

  it('leaves a lock alone that another process took after ours was removed by hand', () => {
    const release = acquireFolderLock(dir, 'train');
    const other = JSON.stringify({ pid: 1, host: os.hostname(), command: 'other', since: '' });
    fs.writeFileSync(path.join(dir, FOLDER_LOCK_FILE), other);
    release();
    assert.equal(fs.readFileSync(path.join(dir, FOLDER_LOCK_FILE), 'utf8'), other);
  });

  it('takes over a lock file left empty by a process killed as it created it, once it is a few seconds old', () => {
    const file = path.join(dir, FOLDER_LOCK_FILE);
    fs.writeFileSync(file, '');
    assert.throws(() => acquireFolderLock(dir, 'generate'), /is in use by another generate/, 'a fresh empty lock may be being written');
    age(file, LEFTOVER_AFTER_MS + 2000);
    const release = acquireFolderLock(dir, 'generate');
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).pid, process.pid);
    release();
  });

  it('is not blocked by the break guard of a process that died while breaking a stale lock', () => {
    fs.writeFileSync(path.join(dir, FOLDER_LOCK_FILE), deadLock());
    const guard = path.join(dir, `${FOLDER_LOCK_FILE}.break`);
    fs.writeFileSync(guard, '1\n');
    age(guard, LEFTOVER_AFTER_MS + 2000);
    const release = acquireFolderLock(dir, 'generate');
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, FOLDER_LOCK_FILE), 'utf8')).pid, process.pid);
    assert.ok(!fs.existsSync(guard), 'the leftover guard is removed');
    release();
  });

  it('gives a stale lock to exactly one of several processes that take it over at once', async function () {
    this.timeout(60000);
    for (let round = 0; round < 3; round++) {
      fs.writeFileSync(path.join(dir, FOLDER_LOCK_FILE), deadLock());
      const { answers, children } = await race(dir, 4);
      try {
        assert.deepEqual([...answers].sort(), ['locked', 'refused', 'refused', 'refused'], `round ${round}`);
        assert.ok(!fs.existsSync(path.join(dir, `${FOLDER_LOCK_FILE}.break`)), 'no break guard left');
      } finally {
        await Promise.all(children.map((child) => kill(child, 'SIGKILL')));
      }
      fs.rmSync(path.join(dir, FOLDER_LOCK_FILE), { force: true });
    }
  });

  it('says when the folder cannot hold a lock file', () => {
    assert.throws(() => acquireFolderLock(path.join(dir, 'missing'), 'generate'), /cannot create the lock file .* \(ENOENT\)/);
  });
});
