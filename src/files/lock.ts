/**
 * A lock on a folder, so that two processes never write the same dataset or run at once: a lock
 * file created exclusively (`O_EXCL`) in the folder, naming the holder's pid, host and command.
 * A lock left by a process that has died (same host, pid no longer running) is taken over.
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

function readOwner(file: string): { owner: Partial<FolderLockOwner>; text: string } | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    return { owner: JSON.parse(text) as Partial<FolderLockOwner>, text };
  } catch {
    return { owner: {}, text }; // being written right now, or garbage: treated as held
  }
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
 * Removes `file` only if it still holds `text` (another process may have replaced a stale lock
 * in between): the file is first renamed to a name of our own, so we inspect exactly what we took.
 */
function removeStale(file: string, text: string): void {
  const taken = `${file}.stale.${process.pid}.${Math.random().toString(36).slice(2)}`;
  try {
    fs.renameSync(file, taken);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else removed it first
    throw err;
  }
  if (fs.readFileSync(taken, 'utf8') === text) {
    fs.rmSync(taken, { force: true });
    return;
  }
  // We took a live lock that replaced the stale one: put it back (link fails if yet another exists).
  try {
    fs.linkSync(taken, file);
  } finally {
    fs.rmSync(taken, { force: true });
  }
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
  const file = path.join(dir, FOLDER_LOCK_FILE);
  const me: FolderLockOwner = {
    pid: process.pid,
    host: os.hostname(),
    command: process.argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' '),
    since: new Date().toISOString(),
  };
  const text = JSON.stringify(me) + '\n';
  for (let attempt = 0; ; attempt++) {
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
    const stale = sameHost && typeof owner.pid === 'number' && owner.pid !== process.pid && !isRunning(owner.pid);
    if (stale && attempt < 5) {
      removeStale(file, held.text);
      continue;
    }
    const how = sameHost && typeof owner.pid === 'number'
      ? `wait for it to finish or stop it (kill ${owner.pid}); `
      : `wait for it to finish or stop it on ${owner.host ?? 'its machine'}; `;
    throw new Error(
      `'${dir}' is in use by another ${what} (${describe(owner)}); ${how}` +
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
