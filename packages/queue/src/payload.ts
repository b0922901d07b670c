import { SQUASH_VERSION } from '@squash/core';
import type { UnitResult } from '@squash/runner';
import type { WorkerIdentity } from '@squash/store';

/** Bumped when a job's data changes shape: a worker refuses any other. */
export const PAYLOAD_FORMAT = 1;

/**
 * A job's data: self-contained, so a worker needs no database and no shared files. The experiment
 * travels as the text it was planned from; the worker plans it again and runs the unit `id` names
 * (a trial id, or a baseline id), which also checks the text, the version and the data files agree.
 */
export interface JobPayload {
  format: typeof PAYLOAD_FORMAT;
  /** The Squash version that planned it (ids hash it: another version computes other ids). */
  squash: string;
  kind: 'trial' | 'baseline';
  id: string;
  experiment: string;
  text: string;
  file: string;
}

/** A job's return value, kept in Redis until the recorder has stored it. */
export interface JobResult {
  format: typeof PAYLOAD_FORMAT;
  kind: JobPayload['kind'];
  id: string;
  result: UnitResult;
  worker: WorkerIdentity;
  /** A finished trial's `.sqz`, base64, with its sha256 (checked before it is written). */
  sqz?: { base64: string; sha256: string };
}

const MAX_TEXT = 1 << 20;
const ID = /^[0-9a-f]{8,128}$/;

/** Why a job's data cannot be run, or undefined when it can: checked before anything executes. */
export function payloadProblem(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'the job data is not an object';
  const p = data as Record<string, unknown>;
  if (p.format !== PAYLOAD_FORMAT)
    return `the job data has format ${String(p.format)}; this worker reads format ${PAYLOAD_FORMAT}`;
  if (p.squash !== SQUASH_VERSION)
    return `the job was planned by Squash ${String(p.squash)}; this worker is Squash ${SQUASH_VERSION} (ids differ between versions: run workers of the recorder's version)`;
  if (p.kind !== 'trial' && p.kind !== 'baseline')
    return `kind is ${JSON.stringify(p.kind)}; expected trial or baseline`;
  if (typeof p.id !== 'string' || !ID.test(p.id))
    return `id is ${JSON.stringify(p.id)}; expected a hex trial or baseline id`;
  if (typeof p.experiment !== 'string' || !p.experiment) return 'experiment is missing';
  if (typeof p.text !== 'string' || !p.text || p.text.length > MAX_TEXT)
    return 'text (the experiment file) is missing or too long';
  if (typeof p.file !== 'string') return 'file is missing';
  return undefined;
}
