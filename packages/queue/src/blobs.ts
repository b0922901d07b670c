import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FileError, sha256Hex, writeFileAtomic } from '@squash/core';
import { checkCachedBaseline } from '@squash/runner';
import type { Redis } from 'ioredis';
import { BLOB_TTL_SECONDS, keys } from './keys.js';

/** A trained baseline's files, as `obtainBaseline` caches them; `baseline.json` last (it marks the entry complete). */
const BASELINE_FILES = ['model.json', 'weights.bin', 'baseline.json'] as const;

type Manifest = Record<string, { sha256: string; bytes: number }>;

/** Stores bytes under their sha256 (once: an existing blob only has its expiry renewed); returns the hash. */
export async function putBlob(redis: Redis, bytes: Buffer): Promise<string> {
  const sha256 = sha256Hex(bytes);
  await redis.set(keys.blob(sha256), bytes, 'EX', BLOB_TTL_SECONDS, 'NX');
  await redis.expire(keys.blob(sha256), BLOB_TTL_SECONDS);
  return sha256;
}

/** The bytes stored under a sha256, checked against it; undefined when Redis has none. */
export async function getBlob(redis: Redis, sha256: string): Promise<Buffer | undefined> {
  const bytes = await redis.getBuffer(keys.blob(sha256));
  if (!bytes) return undefined;
  if (sha256Hex(bytes) !== sha256)
    throw new FileError(`Redis blob ${keys.blob(sha256)} does not hash to its name`, 'EBLOB');
  return bytes;
}

/** Publishes a cached baseline (`<cacheDir>/baselines/<id>/`) for every worker: its files as blobs, then its manifest. */
export async function publishBaseline(redis: Redis, id: string, dir: string): Promise<void> {
  const manifest: Manifest = {};
  for (const name of BASELINE_FILES) {
    const bytes = readFileSync(join(dir, name));
    manifest[name] = { sha256: await putBlob(redis, bytes), bytes: bytes.length };
  }
  await redis.set(keys.baseline(id), JSON.stringify(manifest), 'EX', BLOB_TTL_SECONDS);
}

/** Whether this machine's cache holds the baseline whole (files as saved). */
export function hasCachedBaseline(cacheDir: string, id: string): boolean {
  return checkCachedBaseline(join(cacheDir, 'baselines', id)).state === 'ok';
}

/**
 * Copies a published baseline into this machine's cache, each file checked against its hash and
 * written atomically, `baseline.json` last. False when nothing is published under the id yet.
 */
export async function fetchBaseline(redis: Redis, id: string, cacheDir: string): Promise<boolean> {
  if (hasCachedBaseline(cacheDir, id)) return true;
  const text = await redis.get(keys.baseline(id));
  if (!text) return false;
  const manifest = JSON.parse(text) as Manifest;
  const dir = join(cacheDir, 'baselines', id);
  mkdirSync(dir, { recursive: true });
  for (const name of BASELINE_FILES) {
    const want = manifest[name];
    const bytes = want && (await getBlob(redis, want.sha256));
    if (!bytes) return false;
    writeFileAtomic(join(dir, name), bytes, 'caching a baseline fetched from Redis');
  }
  return hasCachedBaseline(cacheDir, id);
}

const STATE_FILES = ['state.bin', 'state.json'] as const;

/**
 * Publishes the pipeline states a trial cached (`<statesDir>/<key>/`) that Redis does not hold yet,
 * so a worker running a trial with the same training prefix restores it instead of training again.
 */
export async function publishStates(redis: Redis, statesDir: string, stateKeys: string[]): Promise<void> {
  for (const key of stateKeys) {
    const dir = join(statesDir, key);
    if (!existsSync(join(dir, 'state.json')) || (await redis.exists(keys.state(key)))) continue;
    const manifest: Manifest = {};
    for (const name of STATE_FILES) {
      const bytes = readFileSync(join(dir, name));
      manifest[name] = { sha256: await putBlob(redis, bytes), bytes: bytes.length };
    }
    await redis.set(keys.state(key), JSON.stringify(manifest), 'EX', BLOB_TTL_SECONDS);
  }
}

/**
 * Copies the published states among `stateKeys` that this machine lacks into `<statesDir>/<key>/`,
 * each file checked against its hash, the directory renamed into place whole (as `saveState` does).
 */
export async function fetchStates(redis: Redis, statesDir: string, stateKeys: string[]): Promise<void> {
  for (const key of stateKeys) {
    const dir = join(statesDir, key);
    if (existsSync(join(dir, 'state.json'))) continue;
    const text = await redis.get(keys.state(key));
    if (!text) continue;
    const manifest = JSON.parse(text) as Manifest;
    const files: Array<[string, Buffer]> = [];
    for (const name of STATE_FILES) {
      const bytes = manifest[name] && (await getBlob(redis, manifest[name].sha256));
      if (!bytes) break;
      files.push([name, bytes]);
    }
    if (files.length !== STATE_FILES.length) continue;
    const tmp = `${dir}.fetch-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    for (const [name, bytes] of files)
      writeFileAtomic(join(tmp, name), bytes, 'caching a pipeline state fetched from Redis');
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // saved here meanwhile
    }
  }
}
