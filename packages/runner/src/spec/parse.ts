import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { type Document, LineCounter, parseDocument, visit } from 'yaml';
import { ConfigError, didYouMean, fileError, SpecError, SquashError } from '@squash/core';
import { buildExperimentSchema } from './schema.js';
import { locate, locateInString, pointerToPath, type PathSegment } from './locate.js';
import { expandSweeps } from '../grid/expand.js';
import { rememberCheckedGrid } from '../plan.js';
import { deepFreeze } from './freeze.js';
import { checkLimits } from './limits.js';
import { checkRules } from './rules.js';
import { normalizeSpec } from './normalize.js';
import { resolveModelFiles } from './model_files.js';
import { resolveDatasetFiles } from './dataset_files.js';
import type { Experiment, WrittenExperiment, WrittenSweep } from './types.js';
import { checkSearches } from '../search/spec.js';
import { modelLayerNames } from '../grid/layers.js';

export interface ParseResult {
  /** Deep-frozen: the plan computed from it is computed once (`planTrials`). */
  experiment?: Experiment;
  errors: ConfigError[];
}

let validator: ReturnType<Ajv['compile']> | undefined;
function validate() {
  // optimize: false — the generated code's optimisation passes cost 3× the compile (0.76 → 0.26 s here) to speed up validating one file.
  validator ??= new Ajv({
    allErrors: true,
    verbose: true,
    allowUnionTypes: true,
    strict: false,
    code: { optimize: false },
  }).compile(buildExperimentSchema());
  return validator;
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `'${v}' (string)`;
  return `${v} (${typeof v})`;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v === 'object' ? 'object' : typeof v;
}

function typeMatches(schema: { type?: string | string[]; enum?: unknown[] }, v: unknown): boolean {
  const actual = jsonType(v);
  if (schema.type === undefined) return schema.enum ? schema.enum.some((e) => jsonType(e) === actual) : true;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.includes(actual) || (actual === 'integer' && types.includes('number'));
}

/**
 * ajv reports every branch of an anyOf. Keep only the branch whose type matches the value, so a
 * misspelled key in an inline model is not also reported as "must be a string".
 */
function pruneAnyOf(errors: ErrorObject[]): ErrorObject[] {
  let out = errors;
  for (const e of errors.filter((x) => x.keyword === 'anyOf')) {
    const branches = e.schema as Array<{ type?: string; enum?: unknown[]; title?: string; $ref?: string }>;
    const chosen = branches.findIndex((b) => typeMatches(b, e.data));
    const prefix = `${e.schemaPath}/`;
    // A branch's errors are at or below this value: a schema used through `$ref` in several places
    // has one schemaPath for all of them, and a `$ref` branch's own errors carry the referenced path.
    const below = (x: ErrorObject) =>
      x.instancePath === e.instancePath || x.instancePath.startsWith(`${e.instancePath}/`);
    const inBranch = (x: ErrorObject, k: number) =>
      below(x) &&
      (x.schemaPath.startsWith(`${prefix}${k}/`) ||
        (branches[k]!.$ref !== undefined && x.schemaPath.startsWith(`${branches[k]!.$ref}/`)));
    out = out.filter(
      (x) => x !== e && (!branches.some((_, k) => inBranch(x, k)) || (chosen >= 0 && inBranch(x, chosen))),
    );
    if (chosen < 0)
      out.push({
        ...e,
        keyword: 'anyOfType',
        params: { names: branches.map((b) => b.title ?? (b.type === 'array' ? 'list' : (b.type ?? 'enum'))) },
      });
  }
  return out;
}

/** A misspelled key is one mistake: drop the "missing required key" its suggestion would fix. */
function dropMissingExplainedByTypos(errors: ErrorObject[]): ErrorObject[] {
  const suggested = new Set<string>();
  for (const e of errors) {
    if (e.keyword !== 'additionalProperties') continue;
    const props = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    const near = didYouMean((e.params as { additionalProperty: string }).additionalProperty, props);
    if (near) suggested.add(`${e.instancePath}/${near}`);
  }
  return errors.filter(
    (e) =>
      e.keyword !== 'required' ||
      !suggested.has(`${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`),
  );
}

function toConfigError(
  e: ErrorObject,
  locateAt: (path: PathSegment[], key?: string) => ConfigError['location'],
): ConfigError {
  const path = pointerToPath(e.instancePath);
  const parentProps = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const near = didYouMean(key, parentProps);
      return new ConfigError(`unknown key '${key}'${near ? `; did you mean '${near}'?` : ''}`, {
        location: locateAt(path, key),
        hint: `expected one of: ${parentProps.join(', ')}`,
      });
    }
    case 'required':
      return new ConfigError(`missing required key '${(e.params as { missingProperty: string }).missingProperty}'`, {
        location: locateAt(path),
      });
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String);
      const near = typeof e.data === 'string' ? didYouMean(e.data, allowed) : undefined;
      return new ConfigError(
        `expected one of: ${allowed.join(', ')}; got ${describeValue(e.data)}${near ? `; did you mean '${near}'?` : ''}`,
        { location: locateAt(path) },
      );
    }
    case 'anyOfType': {
      const names = (e.params as { names: string[] }).names;
      const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names[0];
      return new ConfigError(`expected ${list}, got ${describeValue(e.data)}`, { location: locateAt(path) });
    }
    case 'type': {
      const hint =
        path[0] === 'defaults' && Array.isArray(e.data)
          ? 'defaults hold single values; put the list in a sweep'
          : undefined;
      return new ConfigError(
        `expected ${String((e.params as { type: string }).type).replace(/,/g, ' or ')}, got ${describeValue(e.data)}`,
        { location: locateAt(path), hint },
      );
    }
    case 'minItems': {
      const limit = (e.params as { limit: number }).limit;
      if (limit > 1)
        return new ConfigError(`needs at least ${limit} entries, got ${(e.data as unknown[]).length}`, {
          location: locateAt(path),
        });
      return new ConfigError(`must not be empty (a grid with an empty list expands to no trials)`, {
        location: locateAt(path),
      });
    }
    case 'minProperties':
    case 'maxProperties':
      if (parentProps.includes('range'))
        return new ConfigError(`expected exactly one of: ${parentProps.join(', ')}`, { location: locateAt(path) });
      if (path.at(-2) === 'exclude')
        return new ConfigError(`an exclude entry needs at least one 'stage.param: value'`, {
          location: locateAt(path),
        });
      return new ConfigError(`a stage must have exactly one key, the compressor name`, { location: locateAt(path) });
    default:
      return new ConfigError(`${e.message ?? e.keyword}, got ${describeValue(e.data)}`, { location: locateAt(path) });
  }
}

/** The yaml package's words for a stack overflow, and the one-line reason a user can act on. */
const TOO_DEEP = /Maximum call stack size exceeded|too much recursion/i;
const DEEP_HINT = 'no experiment nests this deep; check the indentation and brackets';

function yamlProblem(message: string): { message: string; hint?: string } {
  const first = message.split('\n')[0]!;
  if (TOO_DEEP.test(first)) return { message: 'YAML: nested too deeply to read', hint: DEEP_HINT };
  return { message: `YAML syntax: ${first}` };
}

/** The first alias (`*name`, of that name if given) in the document. */
function aliasOffset(doc: Document, name?: string): number {
  let offset = 0;
  visit(doc, {
    Alias(_, node) {
      if (name !== undefined && node.source !== name) return undefined;
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

/**
 * A mapping key that is itself a list or mapping (`? [a, b]: 1`, `{a: 1}: 2`): no experiment key
 * is one, and converting it would stringify it with a warning on standard error.
 */
function collectionKeys(doc: Document, lc: LineCounter, file: string): ConfigError[] {
  const errors: ConfigError[] = [];
  visit(doc, {
    Pair(_, pair) {
      const key = pair.key as { range?: [number, number]; items?: unknown } | null;
      if (!key || typeof key !== 'object' || !('items' in key)) return undefined;
      const pos = lc.linePos(key.range?.[0] ?? 0);
      errors.push(
        new ConfigError('YAML: a key must be a plain value, not a list or mapping', {
          location: { file, line: pos.line, column: pos.col },
        }),
      );
      return undefined;
    },
  });
  return errors;
}

/**
 * The document as plain data, or the reason it cannot be: the yaml package refuses aliases that
 * expand past its limit (the "billion laughs" guard) with a ReferenceError of its own.
 */
function toData(doc: Document, lc: LineCounter, file: string): { data?: unknown; errors: ConfigError[] } {
  try {
    return { data: doc.toJS({ maxAliasCount: 100 }) as unknown, errors: [] };
  } catch (e) {
    const message = (e as Error).message ?? '';
    const unresolved = /^Unresolved alias.*: (.*)$/.exec(message);
    if (unresolved) {
      const pos = lc.linePos(aliasOffset(doc, unresolved[1]));
      return {
        errors: [
          new ConfigError(`YAML: alias *${unresolved[1]} has no anchor &${unresolved[1]} before it`, {
            location: { file, line: pos.line, column: pos.col },
          }),
        ],
      };
    }
    if (/alias/i.test(message)) {
      const pos = lc.linePos(aliasOffset(doc));
      return {
        errors: [
          new ConfigError('YAML: aliases expand to too much data (refused as a resource-exhaustion attack)', {
            location: { file, line: pos.line, column: pos.col },
            hint: 'write the values out, or use fewer aliases of aliases',
          }),
        ],
      };
    }
    if (e instanceof RangeError && TOO_DEEP.test(message))
      return { errors: [new ConfigError('YAML: nested too deeply to read', { location: { file }, hint: DEEP_HINT })] };
    throw e;
  }
}

/**
 * Text → experiment or every problem at once: YAML syntax, then the JSON Schema, then semantic
 * rules (including expanding every sweep's grid: ranges, zip, exclude, defaults, layer axes — the
 * syntax is documented in schema.ts and SWEEPS.md); each error located as file:line:col and named by path. Nothing here touches the disk
 * beyond reading, so a bad file can never leave anything half-written.
 */
export function parseSpec(text: string, file = '<input>'): ParseResult {
  const lc = new LineCounter();
  let doc: Document;
  try {
    // logLevel 'error': the yaml package's warnings (a stringified key, an unknown tag) would go to the
    // terminal; what they warn about fails the schema with a located error instead.
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, logLevel: 'error' });
  } catch (e) {
    if (!(e instanceof RangeError && TOO_DEEP.test(e.message))) throw e;
    return { errors: [new ConfigError('YAML: nested too deeply to read', { location: { file }, hint: DEEP_HINT })] };
  }
  if (doc.errors.length) {
    // A broken structure (a tab, an unclosed bracket) makes the parser see bogus duplicate keys:
    // report duplicates only when they are the only problem.
    const real = doc.errors.filter((e) => e.code !== 'DUPLICATE_KEY');
    return {
      errors: (real.length ? real : doc.errors).map((e) => {
        const pos = lc.linePos(e.pos[0]);
        const { message, hint } = yamlProblem(e.message);
        return new ConfigError(message, { location: { file, line: pos.line, column: pos.col }, hint });
      }),
    };
  }
  const keyErrors = collectionKeys(doc, lc, file);
  if (keyErrors.length) return { errors: keyErrors };
  const { data, errors: dataErrors } = toData(doc, lc, file);
  if (dataErrors.length) return { errors: dataErrors };
  const at = (path: PathSegment[], key?: string) => locate(doc, lc, file, path, key);
  const limits = checkLimits(data, at);
  if (limits.length) return { errors: limits };
  const check = validate();
  if (!check(data)) {
    // An `if` error only says a `then`/`else` branch failed; that branch's own errors say how.
    const errors = dropMissingExplainedByTypos(pruneAnyOf((check.errors ?? []).filter((e) => e.keyword !== 'if'))).map(
      (e) => toConfigError(e, at),
    );
    return { errors: dedupe(errors) };
  }
  // `sweeps:` may be left out when `search:` is given (checkSearches says when neither is).
  const given = data as WrittenExperiment;
  given.sweeps ??= [];
  const { written: withModels, errors: modelErrors } = resolveModelFiles(given, file, at);
  const { written, errors: datasetErrors } = resolveDatasetFiles(withModels, file, at);
  if (modelErrors.length || datasetErrors.length) return { errors: [...modelErrors, ...datasetErrors] };
  // A search's candidates (written by the runner) are sweeps of one point each, after the file's own.
  const all = { ...written, sweeps: [...written.sweeps, ...candidateSweeps(written)] };
  const grid = expandSweeps(all);
  const atText = (path: PathSegment[], col: number) => locateInString(doc, lc, file, path, col);
  const layers = modelLayerNames(written.model, written.models);
  const errors = [...checkSearches(written, at, atText, layers), ...checkRules(all, at, grid)];
  if (errors.length) return { errors: dedupe(errors) };
  // Frozen, so the grid checked here stays the experiment's: planTrials reuses it.
  const experiment = deepFreeze({ ...normalizeSpec(written), file, text });
  rememberCheckedGrid(experiment, grid);
  return { experiment, errors: [] };
}

function candidateSweeps(w: Pick<WrittenExperiment, 'candidates'>): WrittenSweep[] {
  return (w.candidates ?? []).map((c) => ({ name: c.search, stages: c.stages as WrittenSweep['stages'] }));
}

function dedupe(errors: ConfigError[]): ConfigError[] {
  const seen = new Set<string>();
  return errors.filter((e) => !seen.has(e.describe()) && seen.add(e.describe()));
}

/** Reads and parses a file; throws one SpecError holding every problem. */
export function loadExperimentFile(file: string): Experiment {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const mapped = fileError(e, file, 'cannot read experiment file');
    throw mapped instanceof SquashError
      ? mapped
      : new ConfigError(`cannot read experiment file: ${(e as Error).message}`, { location: { file } });
  }
  const { experiment, errors } = parseSpec(text, file);
  if (errors.length || !experiment) throw new SpecError(errors);
  return experiment;
}
