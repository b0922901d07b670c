import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@squash/core';
import { QueryError, SqliteStore } from '@squash/store';
import { buildFixture } from './__tests__/fixture.js';

// The store's search (SQL) on the fixture the in-memory matcher is checked against (query.test.ts).

let store: SqliteStore;
beforeAll(() => {
  store = SqliteStore.openReadOnly(buildFixture());
});
afterAll(() => store.close());

const labels = (filter: string, opts: Parameters<SqliteStore['searchRuns']>[1] = {}) =>
  store.searchRuns(filter, { columns: ['label'], ...opts }).rows.map((r) => r.label);

describe('searchRuns output', () => {
  it('defaults to run_id, experiment, sweep, label, status plus the filter and order-by identifiers, typed', () => {
    const res = store.searchRuns('params.bits > 10 and metrics.accuracy > 0.9', { orderBy: 'tags.owner' });
    expect(res.columns).toEqual([
      'run_id',
      'experiment',
      'sweep',
      'label',
      'status',
      'params.bits',
      'metrics.accuracy',
      'tags.owner',
    ]);
    expect(res.rows.map(({ run_id: id, ...rest }) => (expect(id).toMatch(/^[0-9a-f]{32}$/), rest))).toEqual([
      {
        experiment: 'mnist',
        sweep: 'bits',
        label: 'q16-sym',
        status: 'FINISHED',
        'params.bits': 16,
        'metrics.accuracy': 0.98,
        'tags.owner': 'Carol',
      },
      {
        experiment: 'mnist',
        sweep: 'bits',
        label: 'q16-asym',
        status: 'FINISHED',
        'params.bits': 16,
        'metrics.accuracy': 0.97,
        'tags.owner': 'alice',
      },
    ]);
  });

  it('outputs the requested columns: booleans as booleans, absent values as null, odd keys quoted', () => {
    const res = store.searchRuns("attributes.label in ('q8-sym', 'q4-asym', 'cifar-odd')", {
      columns: [
        'label',
        'params.perChannel, attributes.is_baseline',
        'tags.owner',
        'params.`odd key`',
        'attempt',
        'label',
      ],
    });
    expect(res.columns).toEqual([
      'label',
      'params.perChannel',
      'is_baseline',
      'tags.owner',
      'params.`odd key`',
      'attempt',
    ]);
    expect(res.rows).toEqual([
      {
        label: 'cifar-odd',
        'params.perChannel': null,
        is_baseline: false,
        'tags.owner': null,
        'params.`odd key`': 'v w',
        attempt: 1,
      },
      {
        label: 'q4-asym',
        'params.perChannel': false,
        is_baseline: false,
        'tags.owner': null,
        'params.`odd key`': null,
        attempt: 1,
      },
      {
        label: 'q8-sym',
        'params.perChannel': true,
        is_baseline: false,
        'tags.owner': 'bob',
        'params.`odd key`': null,
        attempt: 1,
      },
    ]);
  });

  it('matches every run for a blank filter, baselines first within each experiment', () => {
    const all = labels('  ');
    expect(all).toHaveLength(29);
    expect(all[0]).toBe('cifar-base');
    expect(all[10]).toBe('mnist-base');
  });

  it('restricts to one experiment and suggests a near name', () => {
    expect(labels('', { experiment: 'cifar' })).toHaveLength(10);
    expect(labels('params.model is not null', { experiment: 'mnist' })).toEqual(['mnist-base']);
    expect(() => store.searchRuns('', { experiment: 'cifr' })).toThrow(
      /no experiment named 'cifr'; did you mean 'cifar'\?/,
    );
  });
});

describe('order by and limit', () => {
  it('orders by a metric, descending, with a limit', () => {
    expect(labels("attributes.experiment = 'mnist'", { orderBy: 'metrics.accuracy desc', limit: 3 })).toEqual([
      'q16-sym',
      'mnist-base',
      'q16-asym',
    ]);
  });

  it('puts nulls last in both directions', () => {
    expect(labels("attributes.sweep = 'prune'", { orderBy: 'metrics.accuracy' })).toEqual([
      'prune-0.1',
      'prune-0.3',
      'prune-0.5',
      'prune-0.7',
      'prune-0.9',
    ]);
    expect(labels("attributes.sweep = 'prune'", { orderBy: 'metrics.accuracy DESC' })).toEqual([
      'prune-0.7',
      'prune-0.5',
      'prune-0.3',
      'prune-0.1',
      'prune-0.9',
    ]);
  });

  it('orders by several keys: numbers before text, as SQLite compares them', () => {
    const got = labels("attributes.sweep = 'bits' and attributes.status = 'FINISHED'", {
      orderBy: 'params.scheme asc, params.bits desc',
    });
    expect(got).toEqual([
      'q16-asym',
      'q10-asym',
      'q8-asym',
      'q4-asym',
      'q-auto',
      'q16-sym',
      'q10-sym',
      'q8-sym',
      'q4-sym',
      'q2-sym',
      'q-ten-text',
    ]);
  });

  it('orders by bare attribute names and params with dotted keys', () => {
    expect(labels("attributes.sweep = 'prune'", { orderBy: 'params.prune-weights.retention desc', limit: 2 })).toEqual([
      'prune-0.9',
      'prune-0.7',
    ]);
    expect(labels("attributes.experiment = 'cifar'", { orderBy: 'seed desc, label', limit: 3 })).toEqual([
      'lr-0.0001',
      'lr-0.0003',
      'lr-0.001',
    ]);
    expect(labels('', { limit: 0 })).toEqual([]);
  });

  it('rejects bad order-by, columns and limits with the column of the problem', () => {
    expect(() => store.searchRuns('', { orderBy: 'metrics.accuracy up' })).toThrow(
      "in order by, column 18: expected ',', 'asc', 'desc' or end of input, got 'up'",
    );
    expect(() => store.searchRuns('', { orderBy: 'attributes.stat' })).toThrow(
      "in order by, column 12: unknown attribute 'stat'; did you mean 'status'?",
    );
    expect(() => store.searchRuns('', { columns: ['label', 'metric.acc'] })).toThrow(QueryError);
    expect(() => store.searchRuns('', { columns: ['label', 'metric.acc'] })).toThrow(
      "in columns, column 1: unknown identifier kind 'metric'; did you mean 'metrics'?",
    );
    expect(() => store.searchRuns('', { limit: -1 })).toThrow(ConfigError);
    expect(() => store.searchRuns('', { limit: 1.5 })).toThrow(/limit must be a whole number/);
  });
});
