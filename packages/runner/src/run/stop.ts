import { constants } from 'node:os';
import { SquashError } from '@squash/core';

/** Why a run stops early: recorded on the runs it marks KILLED, and the code the process exits with. */
export interface Stop {
  reason: string;
  exitCode: number;
  /** Set when this process itself received the signal: the CLI then ends by that signal, as shells expect. */
  signal?: NodeJS.Signals;
}

/** The signals that stop a run: Ctrl-C, `kill`, and a closed terminal. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The shell's status for a process ended by `signal`: 128 + its number (SIGINT 130, SIGTERM 143, SIGHUP 129). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

/** The signal a status above 128 stands for (a worker that stopped on a signal exits with it). */
export function signalOfExitCode(code: number): NodeJS.Signals | undefined {
  return (Object.keys(constants.signals) as NodeJS.Signals[]).find((s) => signalExitCode(s) === code);
}

export function signalStop(signal: NodeJS.Signals): Stop {
  return { reason: `interrupted by ${signal}`, exitCode: signalExitCode(signal), signal };
}

/** The run ended early on a stop; the trials in progress were marked KILLED, finished ones are stored. */
export class InterruptedError extends SquashError {
  readonly stop: Stop;
  constructor(stop: Stop) {
    super(
      `${stop.reason}; the trials in progress are marked KILLED, finished ones are stored`,
      { hint: 'run the same command again to continue' },
      stop.exitCode,
    );
    this.stop = stop;
  }
}

/** How long training may keep the event loop to itself before `checkpoint` lets it run. */
const YIELD_MS = 20;

const turnEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One process's request to stop, set by signal handlers, IPC messages and the supervisor of its
 * workers. Training blocks the event loop (tfjs' cpu and wasm backends never wait on I/O), so
 * handlers only run when the work lets the loop turn: `checkpoint` between training steps and
 * stages, `poll` before claiming a trial. Both throw InterruptedError once a stop is requested.
 */
export class StopRequest {
  #stop: Stop | undefined;
  #signals = 0;
  #lastTurn = performance.now();
  readonly #listeners = new Set<(stop: Stop, force: boolean) => void>();

  get stop(): Stop | undefined {
    return this.#stop;
  }

  /**
   * The first request wins and is passed on to the listeners. A signal received again (a second
   * Ctrl-C) is passed on with `force`: the user will not wait for a clean stop.
   */
  request(stop: Stop): void {
    if (stop.signal) this.#signals++;
    const force = this.#signals > 1;
    if (this.#stop && !force) return;
    this.#stop ??= stop;
    for (const l of this.#listeners) l(this.#stop, force);
  }

  /** Calls `fn` on the first request and on each forced one; returns the function that removes it. */
  onRequest(fn: (stop: Stop, force: boolean) => void): () => void {
    this.#listeners.add(fn);
    return () => void this.#listeners.delete(fn);
  }

  throwIfRequested(): void {
    if (this.#stop) throw new InterruptedError(this.#stop);
  }

  /** Between steps: turns the event loop at most every YIELD_MS (cheap), then checks. */
  checkpoint = async (): Promise<void> => {
    if (performance.now() - this.#lastTurn >= YIELD_MS) {
      await turnEventLoop();
      this.#lastTurn = performance.now();
    }
    this.throwIfRequested();
  };

  /** Lets the event loop turn, so a signal or message already sent is seen (before new work, say), then checks. */
  async poll(): Promise<void> {
    await turnEventLoop();
    this.#lastTurn = performance.now();
    this.throwIfRequested();
  }

  /** Waits `ms`, waking early when a stop is requested (then throws). */
  async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const off = this.onRequest(done);
      function done() {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
    this.throwIfRequested();
  }

  /** Requests a stop on each of `signals` this process receives, until the returned function is called. */
  listen(signals: readonly NodeJS.Signals[] = STOP_SIGNALS): () => void {
    const handlers = signals.map((s) => [s, () => this.request(signalStop(s))] as const);
    for (const [s, h] of handlers) process.on(s, h);
    return () => {
      for (const [s, h] of handlers) process.off(s, h);
    };
  }
}
