/** Real Redis servers for the queue tests: Debian's redis-server on a free 127.0.0.1 port, AOF on. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BINARY = '/usr/bin/redis-server';

/** Whether this machine can run the queue tests; CI must (its .ci/run installs redis-server). */
export function redisAvailable(): boolean {
  const ok = spawnSync(BINARY, ['--version']).status === 0;
  if (!ok && process.env.CI)
    throw new Error('redis-server is missing: .ci/run installs it, the queue tests must run in CI');
  if (!ok) console.warn('queue tests skipped: no redis-server here (apt-get install -y redis-server)');
  return ok;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  /** Stops it (SHUTDOWN: the AOF is written out) and resolves once it has exited. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  restart(): Promise<void>;
}

/** A server of its own for a test file (or one case), removed by `stop`. */
export async function startRedis(extra: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'squash-redis-'));
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(
      BINARY,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
        ...extra,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let log = '';
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (d) => {
        log += d;
        if (/Ready to accept connections/.test(log)) resolve();
      });
      child!.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${log}`)));
    });
  };
  await launch();
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
  };
}
