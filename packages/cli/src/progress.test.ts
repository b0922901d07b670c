import { describe, expect, it } from 'vitest';
import type { RunEvent } from '@squash/runner';
import { progressBar, progressLine } from './progress.js';

const log = (epoch: number) => ({ epoch, loss: 0.5, accuracy: 0.9, seconds: 2, samplesPerSecond: 1000 });
const LABEL = 'prune-iterative(retention=0.1,rounds=2,epochs=1) → quantize-weights(bits=4)';
const place = { stage: 'prune-iterative', stageIndex: 1, stages: 2, rounds: 2, epochs: 1 };

/** A run of two trials after a 2-epoch baseline that took 60 s: the first trial prunes iteratively. */
const EVENTS: RunEvent[] = [
  { type: 'start', experiment: 'e', trials: 2, done: 0, backend: 'wasm', reason: 'forced', jobs: 1 },
  { type: 'baseline-start', seed: 1, baselineId: 'b', epochs: 2 },
  { type: 'epoch', seed: 1, log: log(1), epochs: 2 },
  { type: 'epoch', seed: 1, log: log(2), epochs: 2 },
  { type: 'baseline', seed: 1, cacheHit: false, accuracy: 0.97, seconds: 60 },
  { type: 'running', runId: 'r1', trialId: 't1', label: LABEL, index: 1, total: 2, attempt: 1 },
  { type: 'stage', trialId: 't1', label: LABEL, stage: 'prune-iterative', stageIndex: 1, stages: 2 },
  { type: 'epoch', seed: 1, log: log(1), trialId: 't1', label: LABEL, ...place, round: 1 },
  { type: 'epoch', seed: 1, log: log(1), trialId: 't1', label: LABEL, ...place, round: 2 },
  { type: 'stage', trialId: 't1', label: LABEL, stage: 'quantize-weights', stageIndex: 2, stages: 2 },
  {
    type: 'trial',
    trialId: 't1',
    sweep: 's',
    label: LABEL,
    status: 'FINISHED',
    accuracy: 0.96,
    index: 1,
    total: 2,
    seconds: 4,
  },
  { type: 'running', runId: 'r2', trialId: 't2', label: 'huffman', index: 2, total: 2, attempt: 1 },
  { type: 'warning', message: 'cached baseline x is damaged (weights.bin is 1 bytes, saved as 2); retraining it' },
  {
    type: 'trial',
    trialId: 't2',
    sweep: 's',
    label: 'huffman',
    status: 'FINISHED',
    accuracy: 0.96,
    index: 2,
    total: 2,
    seconds: 2,
  },
  { type: 'done', finished: 2, skipped: 0, failed: 0, killed: 0, elsewhere: 0 },
];

/** What a terminal shows after each event: the lines printed above the bar, then the bar. */
function terminal(events: RunEvent[], width = 200): string[] {
  const screens: string[] = [];
  let printed = '';
  let bar = '';
  const draw = progressBar((s) => {
    for (const part of s.split('\r\x1b[2K')) {
      if (part.endsWith('\n')) printed += part;
      else if (part) bar = part;
    }
  }, width);
  for (const e of events) {
    draw(e);
    screens.push(bar);
  }
  screens.push(printed);
  return screens;
}

describe('progress (terminal)', () => {
  it('shows the baseline epoch, then the trial, its stage, round and epoch; ETA from finished trials only', () => {
    const s = terminal(EVENTS);
    expect(s[1]).toBe('[........................] 0/2 ETA ? · baseline seed 1 · training');
    expect(s[3]).toBe('[........................] 0/2 ETA ? · baseline seed 1 · epoch 2/2');
    // The 60 s baseline says nothing about trials: still no ETA.
    expect(s[5]).toBe(`[........................] 0/2 ETA ? · trial 1/2 · ${LABEL}`);
    expect(s[6]).toBe(`[........................] 0/2 ETA ? · trial 1/2 · stage 1/2 prune-iterative · ${LABEL}`);
    expect(s[8]).toBe(
      `[........................] 0/2 ETA ? · trial 1/2 · stage 1/2 prune-iterative · round 2/2 · epoch 1/1 · ${LABEL}`,
    );
    expect(s[9]).toContain('trial 1/2 · stage 2/2 quantize-weights · ');
    // One 4 s trial finished, one left: 4 s.
    expect(s[10]).toBe('[############............] 1/2 ETA 4s');
    expect(s[11]).toBe('[############............] 1/2 ETA 4s · trial 2/2 · huffman');
    expect(s.at(-1)).toBe(
      [
        'squash: e: 2 trials, 0 already finished; backend wasm (forced)',
        '  baseline seed 1: trained in 60.0 s, test accuracy 97.00%',
        'squash: warning: cached baseline x is damaged (weights.bin is 1 bytes, saved as 2); retraining it',
        'squash: 2 finished, 0 skipped (already finished), 0 failed',
        '',
      ].join('\n'),
    );
  });

  it('cuts the line at the terminal width, the label last', () => {
    const s = terminal(EVENTS, 60);
    expect(s[8]).toBe('[........................] 0/2 ETA ? · trial 1/2 · stage 1/');
  });

  it('divides the ETA among the worker processes and says how many trials run at once', () => {
    const s = terminal([
      { type: 'start', experiment: 'e', trials: 5, done: 1, backend: 'wasm', reason: 'r', jobs: 2 },
      { type: 'running', runId: 'r1', trialId: 't1', label: 'a', index: 2, total: 5, attempt: 1 },
      { type: 'running', runId: 'r2', trialId: 't2', label: 'b', index: 3, total: 5, attempt: 1 },
      { type: 'trial', trialId: 't1', sweep: 's', label: 'a', status: 'FINISHED', index: 2, total: 5, seconds: 10 },
    ]);
    expect(s[2]).toBe('[#####...................] 1/5 ETA ? · trial 3/5 (+1 running) · b');
    // 3 left at 10 s each over 2 processes.
    expect(s[3]).toBe('[##########..............] 2/5 ETA 15s · trial 3/5 · b');
  });
});

describe('progress (log lines)', () => {
  it('names the stage and round on every epoch line, the baseline its epochs', () => {
    expect(EVENTS.map(progressLine).filter(Boolean)).toEqual([
      'squash: e: 2 trials, 0 already finished; backend wasm (forced)',
      '  baseline seed 1: training, 2 epochs',
      '  baseline seed 1 · epoch 1/2: loss 0.5000 acc 90.00% (2.0 s, 1000 samples/s)',
      '  baseline seed 1 · epoch 2/2: loss 0.5000 acc 90.00% (2.0 s, 1000 samples/s)',
      '  baseline seed 1: trained in 60.0 s, test accuracy 97.00%',
      `  ${LABEL} · stage 1/2 prune-iterative · round 1/2 · epoch 1/1: loss 0.5000 acc 90.00% (2.0 s, 1000 samples/s)`,
      `  ${LABEL} · stage 1/2 prune-iterative · round 2/2 · epoch 1/1: loss 0.5000 acc 90.00% (2.0 s, 1000 samples/s)`,
      `  [1/2] FINISHED ${LABEL}: 96.00%`,
      'squash: warning: cached baseline x is damaged (weights.bin is 1 bytes, saved as 2); retraining it',
      '  [2/2] FINISHED huffman: 96.00%',
      'squash: 2 finished, 0 skipped (already finished), 0 failed',
    ]);
    expect(progressLine({ type: 'baseline-wait', seed: 2, baselineId: 'b', holder: 'host:42' })).toBe(
      '  baseline seed 2: another process (host:42) is training it; waiting for its model',
    );
    expect(
      progressLine({
        type: 'epoch',
        seed: 1,
        log: log(3),
        trialId: 't',
        label: 'finetune(epochs=5)',
        epochs: 5,
        stage: 'finetune',
        stageIndex: 1,
        stages: 1,
      }),
    ).toBe('  finetune(epochs=5) · finetune · epoch 3/5: loss 0.5000 acc 90.00% (2.0 s, 1000 samples/s)');
  });
});

/** C0 controls but newline, DEL, and a bidi override: what must never reach a terminal raw. */
const controls = (s: string) =>
  [...s].filter((c) => {
    const n = c.codePointAt(0)!;
    return (n < 0x20 && c !== '\n') || n === 0x7f || c === '\u202e';
  });

describe('untrusted strings in progress output', () => {
  const hostile = 'evil\x1b]8;;http://x\x07link\x1b[2J\u202e';
  it('neutralises labels, names and errors in log lines', () => {
    const lines = [
      progressLine({
        type: 'start',
        experiment: hostile,
        trials: 1,
        done: 0,
        backend: 'cpu',
        reason: 'forced',
        jobs: 1,
      }),
      progressLine({
        type: 'trial',
        trialId: 't',
        sweep: 's',
        label: hostile,
        status: 'FAILED',
        error: hostile,
        index: 1,
        total: 1,
      }),
    ];
    for (const line of lines) {
      expect(line).toContain('evil');
      expect(controls(line!)).toEqual([]);
    }
  });
  it('neutralises the label on the terminal bar', () => {
    let written = '';
    const draw = progressBar(
      (s) => void (written += s),
      200,
      () => 0,
    );
    draw({ type: 'start', experiment: 'e', trials: 1, done: 0, backend: 'cpu', reason: 'forced', jobs: 1 });
    draw({ type: 'running', runId: 'r', trialId: 't', label: hostile, index: 1, total: 1, attempt: 1 });
    // The bar's own control sequences (carriage return, erase line) are the only ones left.
    const text = written.split('\r\x1b[2K').join('');
    expect(text).toContain('evil');
    expect(controls(text)).toEqual([]);
  });
});

describe('a baseline read from a model file', () => {
  it('says it is the file as saved, or trained further from it', () => {
    const file = 'models/mine/model.json';
    expect(progressLine({ type: 'baseline-start', seed: 1, baselineId: 'b', epochs: 0, file })).toBe(
      `  baseline seed 1: ${file} as saved`,
    );
    expect(progressLine({ type: 'baseline', seed: 1, cacheHit: false, accuracy: 0.9723, seconds: 0, file })).toBe(
      '  baseline seed 1: read, test accuracy 97.23%',
    );
    expect(progressLine({ type: 'baseline-start', seed: 1, baselineId: 'b', epochs: 2, file })).toBe(
      `  baseline seed 1: training from ${file}, 2 epochs`,
    );
  });
});
