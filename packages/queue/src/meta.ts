import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { ConfigError, SQUASH_VERSION } from '@squash/core';
import { pidExists } from '@squash/store';
import type { Experiment } from '@squash/runner';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { keys } from './keys.js';
import type { QueueTarget } from './target.js';

/** Which experiment owns a queue now, planned by which Squash, from which text (what `collect` plans from). */
export interface QueueMeta {
  experiment: string;
  squash: string;
  text: string;
  file: string;
}

export async function readMeta(redis: Redis, target: QueueTarget): Promise<QueueMeta | undefined> {
  const m = await redis.hgetall(keys.meta(target.name));
  if (!m.experiment) return undefined;
  return { experiment: m.experiment, squash: m.squash ?? '', text: m.text ?? '', file: m.file ?? '' };
}

/** Jobs the queue still holds in any state: zero once every result has been recorded. */
export async function jobsLeft(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts(
    'waiting',
    'active',
    'delayed',
    'prioritized',
    'waiting-children',
    'paused',
    'completed',
    'failed',
  );
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

const otherQueueHint =
  'record them first (squash collect --queue …), or give this experiment its own queue: --queue-name NAME or another Redis database (redis://host:port/1)';

/**
 * Makes `exp` the queue's owner. Refused (ConfigError, exit 2) while the queue holds jobs of
 * another experiment or of another Squash version: their results belong to another database.
 */
export async function takeQueue(redis: Redis, queue: Queue, target: QueueTarget, exp: Experiment): Promise<void> {
  const meta = await readMeta(redis, target);
  const left = meta && (meta.experiment !== exp.name || meta.squash !== SQUASH_VERSION) ? await jobsLeft(queue) : 0;
  if (meta && left) {
    const whose =
      meta.experiment !== exp.name
        ? `experiment '${meta.experiment}'`
        : `Squash ${meta.squash} (this is Squash ${SQUASH_VERSION})`;
    throw new ConfigError(
      `queue '${target.name}' at ${target.display} holds ${left} jobs of ${whose}, not of '${exp.name}'`,
      { location: { file: exp.file }, hint: otherQueueHint },
    );
  }
  await redis.hset(keys.meta(target.name), {
    experiment: exp.name,
    squash: SQUASH_VERSION,
    text: exp.text ?? '',
    file: exp.file ?? '',
  });
}

/** A worker of another Squash version stops before taking a job (its ids, and numbers, would differ). */
export async function checkWorkerVersion(redis: Redis, target: QueueTarget): Promise<void> {
  const meta = await readMeta(redis, target);
  if (meta && meta.squash !== SQUASH_VERSION)
    throw new ConfigError(
      `queue '${target.name}' at ${target.display} holds work of experiment '${meta.experiment}' planned by Squash ${meta.squash}; this worker is Squash ${SQUASH_VERSION}`,
      { hint: `run workers of Squash ${meta.squash} for it (ids, and so results, differ between versions)` },
    );
}

const LOCK_MS = 15_000;

/**
 * The recorder's hold on a queue, renewed while it runs: one process writes the database. A
 * recorder killed outright leaves it to expire (LOCK_MS), after which another may record.
 */
export async function holdRecorder(redis: Redis, target: QueueTarget): Promise<{ release(): Promise<void> }> {
  const key = keys.recorder(target.name);
  const me = `${hostname()}:${process.pid}:${randomUUID()}`;
  let ok = await redis.set(key, me, 'PX', LOCK_MS, 'NX');
  const held = ok ? undefined : await redis.get(key);
  const [host, pid] = held?.split(':') ?? [];
  // A recorder of this machine that was killed outright: its hold is taken over at once.
  if (!ok && host === hostname() && !pidExists(Number(pid))) {
    await redis.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
      1,
      key,
      held!,
    );
    ok = await redis.set(key, me, 'PX', LOCK_MS, 'NX');
  }
  if (!ok) {
    const holder = (await redis.get(key))?.split(':').slice(0, 2).join(':') ?? '?';
    throw new ConfigError(
      `queue '${target.name}' at ${target.display} is being recorded by another squash process (${holder})`,
      { hint: 'one recorder per queue: let it finish, or stop it and run squash collect' },
    );
  }
  const renew = setInterval(() => {
    redis
      .eval(
        "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0",
        1,
        key,
        me,
        LOCK_MS,
      )
      .catch(() => {});
  }, LOCK_MS / 3);
  renew.unref();
  return {
    release: async () => {
      clearInterval(renew);
      await redis
        .eval(
          "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
          1,
          key,
          me,
        )
        .catch(() => {});
    },
  };
}
