// The stop entry, not the runner's: every command loads this, and the read commands load no TensorFlow.js.
import { InterruptedError, type Stop, StopRequest } from '@squash/runner/stop';

/** A closed standard output or error (`squash … | head`): what SIGPIPE means, which Node ignores. */
const CLOSED_OUTPUT: Stop = { reason: 'the output was closed', exitCode: 141 };

let running: StopRequest | undefined;
let closed = false;

/**
 * Once per process: a write to a closed stdout or stderr stops the run in progress like a signal,
 * or, with none in progress, ends the process at once, quietly (exit 141, as SIGPIPE would).
 */
export function handleClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', () => {
      if (!running) process.exit(CLOSED_OUTPUT.exitCode);
      if (!closed) running.request(CLOSED_OUTPUT);
      closed = true;
    });
  }
}

/**
 * Runs `fn` with a stop request that SIGINT, SIGTERM, SIGHUP and a closed output set; outside it
 * those signals keep their default action (the process ends at once: nothing is in progress).
 */
export async function stoppable<T>(fn: (stop: StopRequest) => Promise<T>): Promise<T> {
  const stop = new StopRequest();
  const unlisten = stop.listen();
  running = stop;
  try {
    const result = await fn(stop);
    await stop.poll(); // a signal that arrived while the report printed still counts
    return result;
  } finally {
    unlisten();
    running = undefined;
  }
}

/**
 * After a run stopped by a signal this process received, ends it by that same signal (its handler
 * is gone, so the default action applies): the shell sees 128 + n, and a script running squash
 * stops too instead of going on to its next command.
 */
export function endBySignal(e: unknown): void {
  const signal = e instanceof InterruptedError ? e.stop.signal : undefined;
  if (signal) process.kill(process.pid, signal);
}
