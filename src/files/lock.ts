/**
 * A lock on a folder, so that two processes never write the same dataset or run at once: a lock
 * file created exclusively (`O_EXCL`) in the folder, naming the holder's pid, host and command.
 * A lock left by a process that has died (same host, pid no longer running; or a lock file left
 * empty by a process killed as it created it) is taken over.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Name of the lock file inside a locked folder (a dot file, so folder listings ignore it). */
export const FOLDER_LOCK_FILE = '.captcha-lab.lock';

/** What a lock file holds. */
export interface FolderLockOwner {
  pid: number;
  host: string;
  /** The holder's command line, to tell the user what to wait for or stop. */
  command: string;
  /** ISO time the lock was taken. */
  since: string;
}

/** Releases a lock; calling it again does nothing. */
export type ReleaseLock = () => void;

/**
 * A lock file or break guard this old was left by a process that died: a live holder writes its
 * lock in the same call that creates it, and holds a guard only while it removes one stale lock.
 */
export const LEFTOVER_AFTER_MS = 5000;

interface HeldLock {
  /** Empty when the file is empty or not JSON (being written right now, or left half-made). */
  owner: Partial<FolderLockOwner>;
  text: string;
  /** The file's age by its modification time. */
  ageMs: number;
}

function readOwner(file: string): HeldLock | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let text: string;
  let ageMs: number;
  try {
    ageMs = Date.now() - fs.fstatSync(fd).mtimeMs;
    text = fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
  try {
    const owner = JSON.parse(text) as unknown;
    if (owner && typeof owner === 'object') return { owner: owner as Partial<FolderLockOwner>, text, ageMs };
  } catch {
    // not (yet) a lock: see isStale
  }
  return { owner: {}, text, ageMs };
}

/** True when `pid` is a running process on this machine (EPERM: running, but someone else's). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A lock no live process holds: its holder was on this machine and is no longer running, or it
 * has no holder at all (empty or unreadable: the process died between creating and writing it)
 * and is too old to be one being written right now.
 */
function isStale(held: HeldLock, host: string): boolean {
  const { owner } = held;
  if (typeof owner.pid !== 'number') return held.ageMs > LEFTOVER_AFTER_MS;
  return owner.host === host && owner.pid !== process.pid && !isRunning(owner.pid);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Removes the lock `file` only if it still holds `text`, the stale lock read before: another
 * process may have broken it and taken the folder since. Done under a guard file created
 * exclusively, so that between the check and the removal no other process can break it and
 * take the folder (a lock is never moved away and put back, which would open that gap). Returns
 * false when another process holds the guard: the caller then looks at the lock again.
 */
function removeStale(file: string, text: string): boolean {
  const guard = `${file}.break`;
  try {
    fs.writeFileSync(guard, `${process.pid}\n`, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    try {
      // left by a process that died while breaking a lock: it would block every caller forever
      if (Date.now() - fs.statSync(guard).mtimeMs > LEFTOVER_AFTER_MS) fs.rmSync(guard, { force: true });
    } catch (statErr) {
      if ((statErr as NodeJS.ErrnoException).code !== 'ENOENT') throw statErr;
    }
    return false;
  }
  try {
    if (readOwner(file)?.text === text) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(guard, { force: true });
  }
  return true;
}

function describe(owner: Partial<FolderLockOwner>): string {
  const parts = [`pid ${owner.pid ?? '?'}`];
  if (owner.host) parts.push(`on ${owner.host}`);
  if (owner.since) parts.push(`since ${owner.since}`);
  return parts.join(' ') + (owner.command ? `: ${owner.command}` : '');
}

/**
 * Locks `dir` (which must exist) for this process, or throws at once when another live process
 * holds it. `what` names the work in the message (e.g. 'generate'). The lock is also released if
 * the process exits without calling `release` (an uncaught error); after a kill it is left
 * behind and recovered by the next caller, since its pid is no longer running.
 *
 * ```ts
 * const release = acquireFolderLock(out, 'generate');
 * try { ... } finally { release(); }
 * ```
 */
export function acquireFolderLock(dir: string, what: string): ReleaseLock {
  return acquireLock(path.join(dir, FOLDER_LOCK_FILE), `'${dir}'`, what);
}

/**
 * The lock of `acquireFolderLock` as the file `file` (whose folder must exist), for what is not a
 * folder of its own: `target` names what it protects in the message (e.g. `'models/x-replication.md'`).
 */
export function acquireLock(file: string, target: string, what: string): ReleaseLock {
  const me: FolderLockOwner = {
    pid: process.pid,
    host: os.hostname(),
    command: process.argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' '),
    since: new Date().toISOString(),
  };
  const text = JSON.stringify(me) + '\n';
  // Bounds on breaking stale locks (each could be replaced by another stale one) and on waiting
  // for another process's break guard (one left by a dead process goes after LEFTOVER_AFTER_MS).
  let broken = 0;
  const giveUpAt = Date.now() + 2 * LEFTOVER_AFTER_MS;
  for (;;) {
    try {
      // Written in one call right after the exclusive create, so readers see it whole or empty.
      fs.writeFileSync(file, text, { flag: 'wx' });
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        throw new Error(`cannot create the lock file '${file}' (${code ?? (err as Error).message}); choose a folder you can write to`);
      }
    }
    const held = readOwner(file);
    if (held === null) continue; // released between our create and our read
    const { owner } = held;
    const sameHost = owner.host === me.host;
    if (isStale(held, me.host) && broken < 5 && Date.now() < giveUpAt) {
      if (removeStale(file, held.text)) broken++;
      else sleep(10); // another process is breaking this lock right now: look again once it is done
      continue;
    }
    const how = sameHost && typeof owner.pid === 'number'
      ? `wait for it to finish or stop it (kill ${owner.pid}); `
      : `wait for it to finish or stop it on ${owner.host ?? 'its machine'}; `;
    throw new Error(
      `${target} is in use by another ${what} (${describe(owner)}); ${how}` +
        `if no such process is running, delete '${file}' and try again`,
    );
  }
  let released = false;
  const release: ReleaseLock = () => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    // Remove only our own lock: never one a later process took over.
    if (readOwner(file)?.text === text) fs.rmSync(file, { force: true });
  };
  process.on('exit', release);
  return release;
}
