/**
 * Ctrl-C and SIGTERM during a command that trains: the first one asks the work to stop at its next
 * safe point (after the batch, with a checkpoint), a second one quits at once.
 */

/** Exit status of a process stopped by a signal, by the shell's convention: 128 + the signal's number. */
export const SIGNAL_EXIT_STATUS = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof SIGNAL_EXIT_STATUS;

/**
 * Runs `work` with SIGINT/SIGTERM turned into an abort of the signal it receives, and says which
 * signal (if any) stopped it. The handlers are removed however `work` ends.
 */
export async function withStopSignals<T>(work: (signal: AbortSignal) => Promise<T>): Promise<{ result: T; stoppedBy: StopSignal | null }> {
  const controller = new AbortController();
  let stoppedBy: StopSignal | null = null;
  const stop = (signal: StopSignal) => {
    if (controller.signal.aborted) process.exit(SIGNAL_EXIT_STATUS[signal]);
    console.error(`\n${signal}: finishing this batch and saving a checkpoint (press again to quit at once)`);
    stoppedBy = signal;
    controller.abort();
  };
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const result = await work(controller.signal);
    return { result, stoppedBy };
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
