import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Finding, pidExists, STALE_AFTER_SECONDS } from '@squash/store';
import { checkSavedModel } from '@squash/trainer';
import { checkCachedBaseline } from './baseline.js';
import { checkState } from './pipeline/state_cache.js';

/**
 * `squash doctor` on the files beside the database: temp files that crashed writers left behind,
 * and cached baselines and pipeline states that do not match their own records. Every write goes
 * through a temp file renamed into place, so these are all that a crash or a damaged disk can
 * leave; each is safe to remove (a temp file is garbage, a cache entry is computed again).
 */

export interface FileDirs {
  /** Compressed models (`<trial id>.sqz`). */
  artifactDir: string;
  /** `baselines/` and `states/` below it. */
  cacheDir: string;
}

/** `<name>.tmp-<pid>`: how every atomic write in Squash names its temp file or directory. */
const TEMP = /\.tmp-(\d+)$/;

/** Younger than this, an entry may be a write in progress on another host sharing the directory. */
const SETTLE_MS = STALE_AFTER_SECONDS * 1000;

const entries = (dir: string) => (existsSync(dir) ? readdirSync(dir).map((name) => join(dir, name)) : []);
const ageMs = (path: string) => Date.now() - statSync(path).mtimeMs;

/** Why a temp file is a stray (its writer is gone), or undefined while it may still be written. */
function strayTemp(path: string): string | undefined {
  const pid = Number(TEMP.exec(path)?.[1]);
  if (pidExists(pid) || ageMs(path) < SETTLE_MS) return undefined;
  return `stray temp file ${path} (process ${pid} is not running)`;
}

/**
 * What is wrong with a cached baseline: its model files (against their manifest), then its record
 * and the sizes and hashes it holds (written just after the model, so a young entry without one is
 * a baseline being saved right now).
 */
function checkBaseline(dir: string): string | undefined {
  const problem = checkSavedModel(dir);
  if (problem) return problem;
  const check = checkCachedBaseline(dir);
  if (check.state === 'damaged') return check.problem;
  if (check.state === 'ok') return undefined;
  return ageMs(dir) < SETTLE_MS ? undefined : 'baseline.json is missing (training stopped while saving it)';
}

export function checkFiles(dirs: FileDirs, { repair = false }: { repair?: boolean } = {}): Finding[] {
  const findings: Finding[] = [];
  const found = (problem: string, path: string) => {
    const f: Finding = { problem, repairable: true };
    if (repair) {
      rmSync(path, { recursive: true, force: true });
      f.repaired = 'removed';
    }
    findings.push(f);
  };
  const baselines = join(dirs.cacheDir, 'baselines');
  const states = join(dirs.cacheDir, 'states');
  for (const dir of [dirs.artifactDir, baselines, states])
    for (const path of entries(dir)) {
      if (!TEMP.test(path)) continue;
      const stray = strayTemp(path);
      if (stray) found(stray, path);
    }
  const cached: Array<[string, (dir: string) => string | undefined]> = [
    [baselines, checkBaseline],
    [states, checkState],
  ];
  for (const [root, check] of cached)
    for (const path of entries(root)) {
      if (TEMP.test(path) || !statSync(path).isDirectory()) continue;
      const problem = check(path);
      if (problem) found(`damaged cache entry ${path}: ${problem}`, path);
    }
  return findings;
}
