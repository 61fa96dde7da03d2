/** Writing files so that readers never see half of one. */
import * as fs from 'fs';
import * as path from 'path';

/**
 * Writes a file so that it appears complete or not at all: a temporary file in the same folder
 * (so the rename stays on one file system), then a rename (atomic on POSIX file systems). The
 * temporary name is unique per process and call, so two writers never remove each other's file.
 */
export function writeFileAtomic(file: string, bytes: Uint8Array | string): void {
  writeFileAtomicFrom(file, [bytes]);
}

/**
 * {@link writeFileAtomic} for content made piece by piece (e.g. the lines of a large labels file),
 * so that the whole never has to be held in memory.
 */
export function writeFileAtomicFrom(file: string, pieces: Iterable<Uint8Array | string>): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'w');
    for (const piece of pieces) fs.writeSync(fd, typeof piece === 'string' ? Buffer.from(piece) : piece);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
