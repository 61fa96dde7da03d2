/** File-system helpers shared by the generator, the trainer and the evaluator. */
export { writeFileAtomic } from './atomic';
export { acquireFolderLock, FOLDER_LOCK_FILE, type FolderLockOwner, type ReleaseLock } from './lock';
