import type { ParamValue } from '@squash/core';
import { matchesLayer } from '../spec/grid_rules.js';
import type { LayerOverride } from '../spec/types.js';
import type { PathSegment } from '../spec/locate.js';
import type { WrittenRange, WrittenSearchStage } from './types.js';

export type Domain =
  | { kind: 'range'; min: number; max: number; log: boolean; integer: boolean }
  | { kind: 'choice'; values: ParamValue[] };

/** One searched value: a stage param, for every layer (`layer` undefined) or for one layer. */
export interface Dimension {
  stage: number;
  compressor: string;
  param: string;
  layer?: string;
  domain: Domain;
  /** Where the space is written, for messages. */
  path: PathSegment[];
}

/** A point of the space: one value per dimension, in `dimensions` order. */
export type Assignment = ParamValue[];

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function isRange(v: unknown): v is WrittenRange {
  return isPlainObject(v) && 'min' in v && 'max' in v;
}

function domainOf(v: unknown): Domain | undefined {
  if (Array.isArray(v)) return { kind: 'choice', values: v as ParamValue[] };
  if (isRange(v)) return { kind: 'range', min: v.min, max: v.max, log: !!v.log, integer: !!v.integer };
  return undefined;
}

/** The per-layer part of a written space, or undefined. */
export function perLayerOf(v: unknown): unknown {
  return isPlainObject(v) && 'per-layer' in v ? v['per-layer'] : undefined;
}

/** The written layer overrides of a pipeline stage (fixed, never searched). */
function writtenOverrides(params: Record<string, unknown>): LayerOverride[] {
  return Array.isArray(params.layers) ? (params.layers as LayerOverride[]) : [];
}

/**
 * The dimensions of a search pipeline: a list or range is one dimension; `per-layer` is one per
 * weight layer, except layers a written `layers:` override skips or already sets the param for.
 */
export function dimensionsOf(pipeline: WrittenSearchStage[], layers: string[], base: PathSegment[] = []): Dimension[] {
  const dims: Dimension[] = [];
  pipeline.forEach((stage, j) => {
    const [compressor, params] = Object.entries(stage)[0]!;
    const overrides = writtenOverrides(params);
    for (const [param, v] of Object.entries(params)) {
      if (param === 'layers') continue;
      const path = [...base, j, compressor, param];
      const per = perLayerOf(v);
      if (per !== undefined) {
        const domain = domainOf(per);
        if (!domain) continue;
        for (const layer of layers) {
          const o = overrides.find((x) => matchesLayer(x.match, layer));
          if (o && (o.skip || o[param] !== undefined)) continue;
          dims.push({ stage: j, compressor, param, layer, domain, path: [...path, 'per-layer'] });
        }
        continue;
      }
      const domain = domainOf(v);
      if (domain) dims.push({ stage: j, compressor, param, domain, path });
    }
  });
  return dims;
}

/** Three significant digits: proposals read well in labels, and one value has one trial id. */
export function roundValue(x: number, integer: boolean): number {
  if (integer) return Math.round(x);
  if (x === 0) return 0;
  const digits = 3 - Math.ceil(Math.log10(Math.abs(x)));
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A value of a domain from u ∈ [0, 1] (log-uniform for log ranges); choices are indexed. */
export function valueAt(domain: Domain, u: number): ParamValue {
  if (domain.kind === 'choice')
    return domain.values[Math.min(domain.values.length - 1, Math.floor(u * domain.values.length))]!;
  const { min, max, log, integer } = domain;
  const x = log ? Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))) : min + u * (max - min);
  return Math.min(max, Math.max(min, roundValue(x, integer)));
}

/**
 * The concrete stages of one assignment: searched global params set, per-layer values as `layers:`
 * overrides (each layer's written override merged in first), written overrides kept after them.
 */
export function candidateStages(
  pipeline: WrittenSearchStage[],
  dims: Dimension[],
  values: Assignment,
): Array<Record<string, Record<string, unknown>>> {
  return pipeline.map((stage, j) => {
    const [compressor, written] = Object.entries(stage)[0]!;
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(written)) {
      if (k === 'layers' || perLayerOf(v) !== undefined || domainOf(v)) continue;
      params[k] = v;
    }
    const overrides = writtenOverrides(written);
    const perLayer = new Map<string, LayerOverride>();
    dims.forEach((d, i) => {
      if (d.stage !== j) return;
      if (d.layer === undefined) {
        params[d.param] = values[i];
        return;
      }
      const o =
        perLayer.get(d.layer) ??
        (() => {
          const w = overrides.find((x) => matchesLayer(x.match, d.layer!));
          return { ...(w && !w.skip ? w : {}), match: d.layer! } as LayerOverride;
        })();
      o[d.param] = values[i];
      perLayer.set(d.layer, o);
      // A required stage-level param (retention, bits) takes the first layer's value; every searched layer overrides it.
      params[d.param] ??= values[i];
    });
    const layers = [...perLayer.values(), ...overrides];
    if (layers.length) params.layers = layers;
    return { [compressor]: params };
  });
}
