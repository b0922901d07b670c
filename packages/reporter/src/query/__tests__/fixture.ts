import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunStatus } from '@squash/contract';
import { SqliteStore } from '@squash/store';
import type { MatchableRun } from '../match.js';

/** One run of the fixture; `label` is unique across the database so tests can name runs by it. */
export interface Spec {
  label: string;
  experiment: string;
  sweep: string;
  status: RunStatus;
  baseline?: boolean;
  seed: number;
  backend: string | null;
  params: Record<string, number | string | boolean>;
  metrics: Record<string, number>;
  /** Curve points (step > 0) only: never a final value. */
  curves?: Record<string, number>;
  tags: Record<string, string>;
  /** Created through claimRun (sets attempt, squash_version) with this many attempts. */
  attempts?: number;
}

const OWNERS = ['alice', 'bob', 'Carol'];

export function fixtureSpecs(): Spec[] {
  const s: Spec[] = [];
  s.push({
    label: 'mnist-base',
    experiment: 'mnist',
    sweep: 'baseline',
    status: 'FINISHED',
    baseline: true,
    seed: 1,
    backend: 'cpu',
    params: { model: 'mlp', epochs: 10 },
    metrics: { accuracy: 0.978, loss: 0.08 },
    tags: { owner: 'alice' },
  });
  let i = 0;
  for (const bits of [2, 4, 8, 10, 16]) {
    for (const scheme of ['sym', 'asym']) {
      const failed = bits === 2 && scheme === 'asym';
      s.push({
        label: `q${bits}-${scheme}`,
        experiment: 'mnist',
        sweep: 'bits',
        status: failed ? 'FAILED' : 'FINISHED',
        seed: bits,
        backend: i % 3 === 0 ? 'wasm' : 'cpu',
        params: { bits, scheme, perChannel: bits >= 8 },
        metrics: failed
          ? {}
          : {
              accuracy: 0.9 + bits / 200 - (scheme === 'asym' ? 0.01 : 0),
              loss: 1 / bits,
              'layer.dense_1/kernel.kept': 1,
            },
        curves: { train_loss: 2 / bits },
        tags: i % 4 === 3 ? {} : { owner: OWNERS[i % 3]! },
        attempts: bits === 16 && scheme === 'sym' ? 2 : bits === 10 ? 1 : undefined,
      });
      i++;
    }
  }
  s.push({
    label: 'q-auto',
    experiment: 'mnist',
    sweep: 'bits',
    status: 'FINISHED',
    seed: 3,
    backend: 'cpu',
    params: { bits: 'auto', scheme: 'sym', perChannel: false },
    metrics: { accuracy: 0.95 },
    tags: { owner: 'bob' },
  });
  s.push({
    label: 'q-ten-text',
    experiment: 'mnist',
    sweep: 'bits',
    status: 'FINISHED',
    seed: 3,
    backend: 'cpu',
    params: { bits: '10' },
    metrics: { accuracy: 0.951 },
    tags: {},
  });
  for (const r of [0.1, 0.3, 0.5, 0.7, 0.9]) {
    s.push({
      label: `prune-${r}`,
      experiment: 'mnist',
      sweep: 'prune',
      status: r === 0.9 ? 'KILLED' : 'FINISHED',
      seed: 2,
      backend: 'cpu',
      params: { 'prune-weights.retention': r, lr: 1e-3 },
      metrics: r === 0.9 ? {} : { accuracy: 0.8 + r / 5, 'layer.dense_1/kernel.kept': r, loss: -r },
      tags: { owner: 'Carol', ticket: String(Math.round(40 + r * 10)) },
    });
  }
  s.push({
    label: 'cifar-base',
    experiment: 'cifar',
    sweep: 'baseline',
    status: 'FINISHED',
    baseline: true,
    seed: 1,
    backend: null,
    params: { model: 'cnn', epochs: 20 },
    metrics: { accuracy: 0.71 },
    tags: { note: '100%_done' },
  });
  s.push({
    label: 'cifar-odd',
    experiment: 'cifar',
    sweep: 'odd',
    status: 'FINISHED',
    seed: 5,
    backend: 'wasm',
    params: { 'odd key': 'v w', 'it\'s "q"': 'quoted', x: "1' OR 1=1 --" },
    metrics: { accuracy: 0.5, 'big/neg': -1.5e10 },
    tags: { note: 'Ünïcode 100% done', 'a;DROP TABLE runs': 'x' },
  });
  s.push({
    label: 'cifar-running',
    experiment: 'cifar',
    sweep: 'odd',
    status: 'RUNNING',
    seed: 5,
    backend: 'wasm',
    params: { x: '1' },
    metrics: {},
    curves: { val_acc: 0.4 },
    tags: {},
  });
  s.push({
    label: 'cifar_under',
    experiment: 'cifar',
    sweep: 'odd',
    status: 'FAILED',
    seed: 6,
    backend: 'cpu',
    params: { x: 'abc', flag: true },
    metrics: {},
    tags: { note: 'ABC' },
  });
  for (const lr of [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]) {
    s.push({
      label: `lr-${lr}`,
      experiment: 'cifar',
      sweep: 'lr',
      status: 'FINISHED',
      seed: 7,
      backend: 'cpu',
      params: { lr, flag: lr > 1e-3, bits: 8 },
      metrics: { accuracy: 0.6 + lr, loss: lr * 10 },
      curves: { val_acc: 0.5 },
      tags: lr < 1e-3 ? { owner: 'alice' } : {},
    });
  }
  return s;
}

/** A MatchableRun per run, read back through the store (listRuns: attempt and squash_version included). */
export function loadRuns(store: SqliteStore): MatchableRun[] {
  return store.experiments().flatMap((e) => store.listRuns(e.name));
}

/** Creates a real SQLite database in a temp dir through the store's own methods; returns its path. */
export function buildFixture(specs = fixtureSpecs()): string {
  const path = join(mkdtempSync(join(tmpdir(), 'squash-query-')), 'runs.db');
  const store = SqliteStore.open(path);
  const exps = new Map<string, number>();
  for (const spec of specs) {
    if (!exps.has(spec.experiment)) exps.set(spec.experiment, store.ensureExperiment(spec.experiment, ''));
    const base = {
      experimentId: exps.get(spec.experiment)!,
      trialId: spec.label,
      sweep: spec.sweep,
      label: spec.label,
      isBaseline: !!spec.baseline,
      seed: spec.seed,
      config: {},
    };
    let id: string;
    if (spec.attempts) {
      let claim;
      for (let a = 1; a <= spec.attempts; a++) {
        claim = store.claimRun(base, {
          host: 'h',
          pid: process.pid,
          invocation: `inv-${a}`,
          version: `0.${a}.0`,
          backend: spec.backend ?? 'cpu',
        });
        if (!claim.claimed) throw new Error('fixture: claim refused');
        if (a < spec.attempts) store.setStatus(claim.runId, 'FAILED', 'first attempt');
      }
      id = (claim as { runId: string }).runId;
    } else {
      id = store.createRun({ ...base, backend: spec.backend as string });
    }
    store.logBatch(id, {
      params: spec.params,
      metrics: Object.entries(spec.curves ?? {}).flatMap(([key, v]) =>
        [1, 2].map((step) => ({ key, value: v * step, step })),
      ),
    });
    if (Object.keys(spec.tags).length) store.setTags(id, spec.tags);
    if (spec.status === 'FINISHED')
      store.finishRun(id, { metrics: Object.entries(spec.metrics).map(([key, value]) => ({ key, value })) });
    else {
      store.logBatch(id, { metrics: Object.entries(spec.metrics).map(([key, value]) => ({ key, value })) });
      if (spec.status !== 'RUNNING') store.setStatus(id, spec.status, 'boom');
    }
  }
  store.close();
  return path;
}
