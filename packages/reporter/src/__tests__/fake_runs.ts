import type { RunView } from '@squash/contract';

/**
 * Realistic, deterministic RunView objects for tests and the benchmark: the seed-mnist sweeps
 * (clip, weight bits × scheme, prune, activation bits, prune+quantize), a per-layer pruning
 * sensitivity sweep and a deep-compression pipeline, with per-layer size metrics, plus one failed run.
 * Test data (under __tests__: not built, not exported).
 */
export interface FakeOptions {
  /** Seeds per trial (default 1). */
  seeds?: number;
  /** Stop after this many runs (trials repeat with further seeds until reached). */
  total?: number;
  /** Label of the first weight-bits trial, e.g. to test escaping. */
  label?: string;
  /** Error text of the failed run. */
  error?: string;
}

/** A label and an error text that would run script or add elements if the page did not escape them. */
export const XSS_LABEL = '<script>window.__pwned=1</script> "quoted" & <b>';
export const XSS_ERROR = 'boom <img src=x onerror="window.__pwned=2"> & done';

const TENSORS: Array<[string, number]> = [
  ['dense_1/kernel', 784 * 128],
  ['dense_1/bias', 128],
  ['dense_2/kernel', 128 * 10],
  ['dense_2/bias', 10],
];
const FLOAT_BYTES = TENSORS.reduce((a, [, n]) => a + 4 * n, 0) + 720;
const BASE_ACC = 0.9777;

interface Trial {
  sweep: string;
  label: string;
  params: Record<string, number | string>;
  /** Accuracy lost against the baseline, before noise. */
  penalty: number;
  retention: number;
  bits: number;
  huffman?: boolean;
  activationBits?: number;
  failed?: boolean;
}

const schemeFactor: Record<string, number> = { symmetric: 1, asymmetric: 0.8, kmeans: 0.45 };
const bitsPenalty = (b: number) => 0.35 * Math.exp(-1.45 * b);
const retentionPenalty = (r: number) => 0.9 * Math.exp(-9 * r);

function trials(): Trial[] {
  const t: Trial[] = [];
  const label = (stages: Array<[string, Record<string, number | string>]>) =>
    stages
      .map(
        ([s, p]) =>
          `${s}(${Object.entries(p)
            .map(([k, v]) => `${k}=${v}`)
            .join(',')})`,
      )
      .join(' → ');
  const params = (stages: Array<[string, Record<string, number | string>]>) =>
    Object.fromEntries(stages.flatMap(([s, p]) => Object.entries(p).map(([k, v]) => [`${s}.${k}`, v])));
  const add = (
    sweep: string,
    stages: Array<[string, Record<string, number | string>]>,
    rest: Omit<Trial, 'sweep' | 'label' | 'params'>,
  ) =>
    t.push({
      sweep,
      label: label(stages),
      params: { ...params(stages), stages: stages.map(([s]) => s).join('+') },
      ...rest,
    });
  for (const threshold of [0.5, 0.3, 0.2, 0.1, 0.05])
    add('clip', [['clip-weights', { threshold }]], {
      penalty: 0.02 * (0.3 / threshold) ** 1.5,
      retention: 1,
      bits: 32,
    });
  for (const scheme of ['symmetric', 'asymmetric', 'kmeans'])
    for (const bits of [8, 6, 4, 3, 2])
      add('weight-bits', [['quantize-weights', { scheme, bits }]], {
        penalty: bitsPenalty(bits) * schemeFactor[scheme]!,
        retention: 1,
        bits,
      });
  for (const retention of [0.9, 0.7, 0.5, 0.3, 0.2, 0.1])
    add('prune', [['prune-weights', { retention }]], { penalty: retentionPenalty(retention), retention, bits: 32 });
  for (const bits of [8, 6, 4, 3, 2])
    add('activation-bits', [['quantize-activations', { bits }]], {
      penalty: bitsPenalty(bits) * 0.9,
      retention: 1,
      bits: 32,
      activationBits: bits,
    });
  for (const retention of [0.5, 0.2])
    for (const bits of [8, 4])
      add(
        'prune+quantize',
        [
          ['prune-weights', { retention }],
          ['quantize-weights', { bits }],
        ],
        { penalty: retentionPenalty(retention) + bitsPenalty(bits), retention, bits },
      );
  for (const layer of ['dense_1/kernel', 'dense_2/kernel'])
    for (const retention of [0.9, 0.5, 0.2, 0.1, 0.05])
      add('layer-prune', [['prune-weights', { layer, retention }]], {
        penalty: retentionPenalty(retention) * (layer === 'dense_1/kernel' ? 0.25 : 0.6),
        retention: layer === 'dense_1/kernel' ? retention : 0.99,
        bits: 32,
      });
  for (const bits of [5, 6])
    add(
      'deep-compression',
      [
        ['prune-iterative', { retention: 0.1, rounds: 3 }],
        ['quantize-weights', { scheme: 'kmeans', bits }],
        ['huffman', { indexBits: 5 }],
      ],
      { penalty: 0.011 + bitsPenalty(bits), retention: 0.1, bits, huffman: true },
    );
  add('prune', [['prune-weights', { retention: 0.01 }]], { penalty: 0, retention: 0.01, bits: 32, failed: true });
  return t;
}

/** mulberry32 over a string hash: the same trial and seed always get the same noise. */
function rng(key: string): () => number {
  let a = 2166136261;
  for (let i = 0; i < key.length; i++) a = Math.imul(a ^ key.charCodeAt(i), 16777619);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function sizes(t: Trial): { metrics: Record<string, number>; artifact: number } {
  const m: Record<string, number> = {};
  let artifact = 720;
  for (const [name, total] of TENSORS) {
    const kernel = name.endsWith('kernel');
    const kept = Math.round(total * (kernel ? t.retention : 1));
    const dense = 4 * total;
    const sparse = kept * 4 + Math.ceil(kept * 0.5) + 16;
    const bits = kernel ? t.bits : 32;
    const quantized =
      kernel && bits < 32
        ? Math.ceil((Math.min(kept / total, 1) < 0.6 ? kept * (bits + 4) : total * bits) / 8) + 4 * 2 ** bits
        : Math.min(dense, sparse);
    const huffman = Math.round(quantized * (kernel && bits < 32 ? 0.62 : 1.02));
    const chosen = t.huffman ? Math.min(huffman, quantized) : bits < 32 && kernel ? quantized : Math.min(dense, sparse);
    artifact += chosen;
    Object.assign(m, {
      [`layer.${name}.kept`]: kept,
      [`layer.${name}.total`]: total,
      [`layer.${name}.dense_bytes`]: dense,
      [`layer.${name}.sparse_bytes`]: sparse,
      [`layer.${name}.quantized_bytes`]: quantized,
      [`layer.${name}.huffman_bytes`]: huffman,
      [`layer.${name}.artifact_bytes`]: chosen,
      ...(kernel && bits < 32 ? { [`layer.${name}.bits`]: bits } : {}),
    });
  }
  return { metrics: m, artifact };
}

function view(id: string, over: Partial<RunView>): RunView {
  return {
    id,
    experiment: 'seed-mnist',
    trialId: id,
    sweep: 'baseline',
    label: 'baseline',
    isBaseline: false,
    status: 'FINISHED',
    seed: 1,
    attempt: 1,
    backend: 'wasm',
    squashVersion: '0.1.0',
    startedAt: '2025-11-27T10:00:00.000Z',
    endedAt: '2025-11-27T10:00:01.000Z',
    error: null,
    params: {},
    metrics: {},
    artifacts: {},
    tags: {},
    ...over,
  };
}

export function fakeRuns(opts: FakeOptions = {}): RunView[] {
  const all = trials();
  const out: RunView[] = [];
  const total = opts.total ?? Infinity;
  const seeds = opts.total === undefined ? (opts.seeds ?? 1) : Infinity;
  for (let seed = 1; seed <= seeds && out.length < total; seed++) {
    const base = { batch_size: 32, epochs: 10, model: 'article-mlp', learning_rate: 0.001, seed };
    const noise = rng(`baseline/${seed}`);
    const baseAcc = BASE_ACC + (noise() - 0.5) * 0.003;
    out.push(
      view(`baseline-${seed}`, {
        isBaseline: true,
        seed,
        params: { ...base, stages: '' },
        metrics: {
          accuracy: baseAcc,
          accuracy_delta: 0,
          loss: 0.08,
          artifact_bytes: FLOAT_BYTES,
          size_float32_bytes: FLOAT_BYTES,
          compression_ratio: 1,
          weights_kept_fraction: 1,
          weights_changed_fraction: 0,
        },
      }),
    );
    for (const [i, t] of all.entries()) {
      if (out.length >= total) break;
      const id = `t${i}-s${seed}`;
      const r = rng(`${t.label}/${seed}`);
      const label = i === 5 && opts.label !== undefined ? opts.label : t.label;
      if (t.failed) {
        out.push(
          view(id, {
            sweep: t.sweep,
            label,
            seed,
            status: 'FAILED',
            error: opts.error ?? 'RangeError: retention must be in (0, 1]',
            params: { ...base, ...t.params },
            tags: { note: 'expected failure' },
          }),
        );
        continue;
      }
      const acc = Math.max(0.05, Math.min(0.995, baseAcc - t.penalty + (r() - 0.5) * 0.004));
      const { metrics, artifact } = sizes(t);
      out.push(
        view(id, {
          sweep: t.sweep,
          label,
          seed,
          params: { ...base, ...t.params },
          tags: i === 5 ? { owner: 'ada', '<k>': '"v" & <i>' } : {},
          metrics: {
            accuracy: acc,
            accuracy_delta: acc - baseAcc,
            loss: 0.08 + t.penalty * 2.5,
            artifact_bytes: artifact,
            size_float32_bytes: FLOAT_BYTES,
            compression_ratio: FLOAT_BYTES / artifact,
            weights_kept_fraction: t.retention,
            weights_changed_fraction: t.bits < 32 || t.retention < 1 || t.sweep === 'clip' ? 1 : 0,
            ...(t.bits < 32 ? { weight_bits: t.bits } : {}),
            ...(t.activationBits ? { activation_bits: t.activationBits } : {}),
            ...metrics,
          },
        }),
      );
    }
  }
  return out;
}
