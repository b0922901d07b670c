import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../sqlite_store.js';

/**
 * Two experiments; in `a`, trial t1 ran three times (finished, --force rerun finished, a third
 * attempt failed), t2 failed then finished, t3 only failed. `b` shares t1's trial id.
 */
function db(): SqliteStore {
  const path = join(mkdtempSync(join(tmpdir(), 'squash-latest-')), 'runs.db');
  const store = SqliteStore.open(path);
  const a = store.ensureExperiment('a', '');
  const b = store.ensureExperiment('b', '');
  const run = (experimentId: number, trialId: string, label: string, status: 'FINISHED' | 'FAILED') => {
    const id = store.createRun({
      experimentId,
      trialId,
      sweep: 's',
      label,
      isBaseline: false,
      seed: 1,
      backend: 'cpu',
      config: {},
    });
    if (status === 'FINISHED')
      store.finishRun(id, {
        params: { bits: 4 },
        metrics: [
          { key: 'accuracy', value: 0.9 },
          { key: 'curve', value: 1, step: 1 },
        ],
        tags: { owner: 'ann' },
      });
    else store.setStatus(id, 'FAILED', 'boom');
  };
  run(a, 't1', 't1-first', 'FINISHED');
  run(a, 't1', 't1-forced', 'FINISHED');
  run(a, 't1', 't1-failed-again', 'FAILED');
  run(a, 't2', 't2-failed', 'FAILED');
  run(a, 't2', 't2-finished', 'FINISHED');
  run(a, 't3', 't3-failed', 'FAILED');
  run(b, 't1', 't1-in-b', 'FAILED');
  return store;
}

describe('searchRuns latest', () => {
  const store = db();
  const labels = (filter: string, latest: boolean, experiment?: string) =>
    store.searchRuns(filter, { columns: ['label'], latest, experiment }).rows.map((r) => r.label);

  it("keeps each trial's latest FINISHED run per experiment, else its latest", () => {
    expect(labels('', false)).toHaveLength(7);
    expect(labels('', true)).toEqual(['t1-forced', 't2-finished', 't3-failed', 't1-in-b']);
    expect(labels('', true, 'a')).toEqual(['t1-forced', 't2-finished', 't3-failed']);
  });

  it('filters the latest runs, not the other way round', () => {
    expect(labels("attributes.status = 'FAILED'", false, 'a')).toEqual(['t1-failed-again', 't2-failed', 't3-failed']);
    expect(labels("attributes.status = 'FAILED'", true, 'a')).toEqual(['t3-failed']);
  });
});

describe('hasKey and keys', () => {
  const store = db();
  it('knows which metric, param and tag keys some run has (any step), per experiment', () => {
    expect(store.hasKey('metrics', 'accuracy')).toBe(true);
    expect(store.hasKey('metrics', 'curve')).toBe(true);
    expect(store.hasKey('metrics', 'acuracy')).toBe(false);
    expect(store.hasKey('params', 'bits')).toBe(true);
    expect(store.hasKey('params', 'bits', 'b')).toBe(false);
    expect(store.hasKey('tags', 'owner', 'a')).toBe(true);
    expect(store.hasKey('tags', 'owner', 'nope')).toBe(false);
  });
  it('lists the distinct keys, sorted', () => {
    expect(store.keys('metrics')).toEqual(['accuracy', 'curve']);
    expect(store.keys('params')).toEqual(['bits']);
    expect(store.keys('tags')).toEqual(['owner']);
  });
});

describe('listRunHeads configs', () => {
  it('gives the seeds of one configuration one index, whatever their run-record params', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'squash-configs-')), 'runs.db');
    const store = SqliteStore.open(path);
    const e = store.ensureExperiment('e', '');
    const add = (label: string, seed: number, params: Record<string, number | string | boolean>) => {
      const id = store.createRun({
        experimentId: e,
        trialId: `${label}-${seed}`,
        sweep: 's',
        label,
        isBaseline: false,
        seed,
        backend: 'cpu',
        config: {},
      });
      store.finishRun(id, { params: { ...params, seed }, metrics: [{ key: 'accuracy', value: 0.9 }] });
    };
    add('q4', 1, { 'q.bits': 4, cache_hit: false, baseline_run: 'b1', trained_on: 'here' });
    add('q4', 2, { 'q.bits': 4, cache_hit: true, baseline_run: 'b2', trained_on: 'there' });
    add('q8', 1, { 'q.bits': 8, cache_hit: false, baseline_run: 'b1' });
    add('q4', 3, { 'q.bits': 4, epochs: 3 }); // another baseline setting: another configuration
    const heads = store.listRunHeads('e', ['accuracy']);
    expect([...heads.configs]).toEqual([0, 0, 1, 2]);
    store.close();
  });
});
