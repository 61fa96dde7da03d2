/** Writing files so that readers never see half of one. */
import * as fs from 'fs';
import * as path from 'path';

/**
 * Writes a file so that it appears complete or not at all: a temporary file in the same folder
 * (so the rename stays on one file system), then a rename (atomic on POSIX file systems). The
 * temporary name is unique per process and call, so two writers never remove each other's file.
 */
export function writeFileAtomic(file: string, bytes: Uint8Array | string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
