/** Creating folders. */
import * as fs from 'fs';
import * as path from 'path';

/**
 * Creates `dir` and its missing parents, one level at a time. Node's `mkdirSync(dir, { recursive:
 * true })` loops forever at full CPU where mkdir answers ENOENT for a parent that exists (e.g.
 * anywhere under /proc); here that error comes back at once, with the path it was for.
 * @throws the file-system error (`code` and `path` set) of the first level that cannot be made
 */
export function createFolder(dir: string): void {
  const missing: string[] = [];
  for (let p = path.resolve(dir); !fs.existsSync(p); p = path.dirname(p)) {
    missing.unshift(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of missing) {
    try {
      fs.mkdirSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  if (!fs.statSync(dir).isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: not a directory, '${dir}'`), { code: 'ENOTDIR', path: dir });
  }
}

/** `dir` or the closest folder above it that exists: where creating `dir` would start (or fail). */
export function nearestExisting(dir: string): string {
  let at = dir;
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  return at;
}
