import { join } from 'node:path';
import { SqliteStore } from '@squash/store';
import { describe, expect, it } from 'vitest';
import { SYNTHETIC_EXPERIMENT, tempDir } from '../__tests__/fixtures.js';
import { runExperiment } from '../execute.js';
import { parseSpec } from '../spec/parse.js';
import type { RunEvent } from './events.js';
import { InterruptedError, type Stop, StopRequest, signalExitCode, signalOfExitCode, signalStop } from './stop.js';

const FAILED_HERE: Stop = { reason: 'the squash run process failed', exitCode: 1 };

/** About a millisecond of work that never waits, as a training step on the cpu or wasm backend. */
function busyStep(): void {
  const end = performance.now() + 1;
  while (performance.now() < end);
}

describe('StopRequest', () => {
  it('keeps the first request and passes a repeated signal on as forced', () => {
    const stop = new StopRequest();
    const seen: Array<[string, boolean]> = [];
    stop.onRequest((s, force) => seen.push([s.reason, force]));
    stop.request(signalStop('SIGTERM'));
    stop.request(FAILED_HERE); // not a signal: nothing new to pass on
    expect(seen).toEqual([['interrupted by SIGTERM', false]]);
    stop.request(signalStop('SIGINT')); // a second signal: the user will not wait
    expect(seen).toEqual([
      ['interrupted by SIGTERM', false],
      ['interrupted by SIGTERM', true],
    ]);
    expect(() => stop.throwIfRequested()).toThrow(InterruptedError);
    expect(stop.stop).toMatchObject({ exitCode: 143, signal: 'SIGTERM' });
  });

  it('maps signals to the shell status and back', () => {
    expect(
      ['SIGHUP', 'SIGINT', 'SIGKILL', 'SIGPIPE', 'SIGTERM'].map((s) => signalExitCode(s as NodeJS.Signals)),
    ).toEqual([129, 130, 137, 141, 143]);
    expect(signalOfExitCode(130)).toBe('SIGINT');
    expect(signalOfExitCode(1)).toBeUndefined();
  });

  it('lets a signal handler run while work keeps the event loop busy, and stops the work within steps', async () => {
    const stop = new StopRequest();
    const unlisten = stop.listen(['SIGUSR2']);
    let steps = 0;
    let stoppedAt = -1;
    try {
      // Without checkpoint's turn of the event loop the handler never runs and the loop hits its cap.
      for (; steps < 3000; steps++) {
        busyStep();
        await Promise.resolve(); // what awaiting a cpu/wasm tensor's data() amounts to
        if (steps === 100) process.kill(process.pid, 'SIGUSR2');
        await stop.checkpoint();
      }
    } catch (e) {
      expect(e).toBeInstanceOf(InterruptedError);
      stoppedAt = steps;
    } finally {
      unlisten();
    }
    expect(stoppedAt).toBeGreaterThanOrEqual(100);
    expect(stoppedAt).toBeLessThan(100 + 200);
    expect(stop.stop?.reason).toBe('interrupted by SIGUSR2');
  });

  it('wakes a sleep early on a request', async () => {
    const stop = new StopRequest();
    const t0 = performance.now();
    setTimeout(() => stop.request(FAILED_HERE), 10);
    await expect(stop.sleep(60_000)).rejects.toThrow(InterruptedError);
    expect(performance.now() - t0).toBeLessThan(30_000);
  });
});

describe('runExperiment stopped', () => {
  async function stopWhen(when: (e: RunEvent) => boolean) {
    const dir = tempDir();
    const exp = parseSpec(SYNTHETIC_EXPERIMENT, 'tiny.yaml').experiment!;
    const store = SqliteStore.open(join(dir, 'squash.db'));
    const stop = new StopRequest();
    const run = runExperiment(exp, {
      store,
      cacheDir: join(dir, 'cache'),
      backend: 'wasm',
      stop,
      onEvent: (e) => when(e) && stop.request(signalStop('SIGINT')),
    });
    await expect(run).rejects.toThrow(/^interrupted by SIGINT; the trials in progress are marked KILLED/);
    const runs = store.listRuns(exp.name);
    store.close();
    return runs.map((r) => ({ baseline: r.isBaseline, status: r.status, error: r.error }));
  }

  it('while the baseline trains: the baseline ends KILLED and no trial starts', async () => {
    expect(await stopWhen((e) => e.type === 'epoch')).toEqual([
      { baseline: true, status: 'KILLED', error: 'interrupted by SIGINT' },
    ]);
  });

  it('once a trial has started: that trial ends KILLED and no other starts', async () => {
    expect(await stopWhen((e) => e.type === 'running')).toEqual([
      { baseline: true, status: 'FINISHED', error: null },
      { baseline: false, status: 'KILLED', error: 'interrupted by SIGINT' },
    ]);
  });
});
