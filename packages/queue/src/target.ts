import { ConfigError } from '@squash/core';
import { Redis, type RedisOptions } from 'ioredis';

/** A queue as `--queue` names it: where Redis is, which database, and the queue's name there. */
export interface QueueTarget {
  /** The URL as given (with its password): what a worker's sandboxed processes connect with. */
  url: string;
  /** The URL with the password hidden, for messages. */
  display: string;
  /** BullMQ queue name: one experiment's jobs at a time (`--queue-name`, default `squash`). */
  name: string;
  connection: RedisOptions;
}

export const DEFAULT_QUEUE_NAME = 'squash';

/**
 * `redis://[user:password@]host[:port][/db]` or `rediss://…` (TLS) → a target. Anything else is a
 * ConfigError naming the option and the form expected.
 */
export function parseQueueTarget(url: string, name = DEFAULT_QUEUE_NAME): QueueTarget {
  const bad = (why: string) =>
    new ConfigError(`--queue ${JSON.stringify(url)}: ${why}`, {
      hint: 'give redis://[:password@]host[:port][/db] or rediss://… for TLS',
    });
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw bad(`the scheme is ${u.protocol.slice(0, -1)}`);
  if (!u.hostname) throw bad('no host');
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText && !/^\d{1,2}$/.test(dbText)) throw bad(`the database number is ${JSON.stringify(dbText)}`);
  if (!/^[A-Za-z0-9_.-]{1,100}$/.test(name))
    throw new ConfigError(`--queue-name ${JSON.stringify(name)}: letters, digits, '_', '.' and '-' only`);
  const hidden = new URL(url);
  if (hidden.password) hidden.password = '***';
  return {
    url,
    display: hidden.toString(),
    name,
    connection: {
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port ? Number(u.port) : 6379,
      db: dbText ? Number(dbText) : 0,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
      // BullMQ's blocking commands must wait, never fail, while Redis restarts.
      maxRetriesPerRequest: null,
      retryStrategy: (times: number) => Math.min(200 * times, 2000),
    },
  };
}

/**
 * A connection that is known to work: connected, authenticated and answering. Unreachable, a
 * password refused or missing: a ConfigError (exit 2) saying which, before anything is written.
 */
export async function connect(target: QueueTarget): Promise<Redis> {
  const redis = new Redis({
    ...target.connection,
    lazyConnect: true,
    connectTimeout: 5000,
    // The first connection fails fast; later ones (a Redis restart) are retried by the target's strategy.
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  // The reason (a refused password) arrives as an 'error' event; the promise only says the connection closed.
  let reason: Error | undefined;
  redis.on('error', (e: Error) => {
    reason ??= e;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    throw connectionError(target, reason ?? (e as Error));
  }
  redis.options.retryStrategy = target.connection.retryStrategy;
  redis.options.maxRetriesPerRequest = null;
  return redis;
}

export function connectionError(target: QueueTarget, e: Error): ConfigError {
  const msg = e.message;
  if (/WRONGPASS|invalid password|invalid username-password/i.test(msg))
    return new ConfigError(`Redis at ${target.display} refused the password (${msg})`, {
      hint: 'give the password Redis expects in the URL: redis://:PASSWORD@host:port',
    });
  if (/NOAUTH|Authentication required/i.test(msg))
    return new ConfigError(`Redis at ${target.display} requires a password (${msg})`, {
      hint: 'give it in the URL: redis://:PASSWORD@host:port',
    });
  return new ConfigError(`cannot reach Redis at ${target.display} (${msg})`, {
    hint: 'start redis-server there (see "Running on many machines" in the README), or check host and port',
  });
}
