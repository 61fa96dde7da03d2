/** File-system helpers shared by the generator, the trainer and the evaluator. */
export { writeFileAtomic, writeFileAtomicFrom } from './atomic';
export { createFolder, nearestExisting } from './folder';
export { acquireFolderLock, acquireLock, FOLDER_LOCK_FILE, type FolderLockOwner, type ReleaseLock } from './lock';
