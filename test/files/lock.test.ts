import { strict as assert } from 'assert';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { acquireFolderLock, FOLDER_LOCK_FILE } from '../../src/files';

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

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
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

  it('says when the folder cannot hold a lock file', () => {
    assert.throws(() => acquireFolderLock(path.join(dir, 'missing'), 'generate'), /cannot create the lock file .* \(ENOENT\)/);
  });
});
