/** File-system helpers shared by the generator, the trainer and the evaluator. */
export { writeFileAtomic } from './atomic';
