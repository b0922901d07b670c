import { ConfigError } from '@squash/core';
import { describe, expect, it } from 'vitest';
import { parseQueueTarget } from './target.js';

describe('parseQueueTarget', () => {
  it.each([
    ['redis://127.0.0.1:6390', { host: '127.0.0.1', port: 6390, db: 0 }, 'redis://127.0.0.1:6390'],
    ['redis://h/3', { host: 'h', port: 6379, db: 3 }, 'redis://h/3'],
    ['redis://:p%40ss@h:1', { host: 'h', port: 1, password: 'p@ss' }, 'redis://:***@h:1'],
    ['redis://me:pw@h', { host: 'h', username: 'me', password: 'pw' }, 'redis://me:***@h'],
    ['rediss://h:6380', { host: 'h', port: 6380, tls: {} }, 'rediss://h:6380'],
    ['redis://[::1]:7000', { host: '::1', port: 7000 }, 'redis://[::1]:7000'],
  ])('%s', (url, connection, display) => {
    const t = parseQueueTarget(url);
    expect(t.connection).toMatchObject(connection);
    expect(t.display).toBe(display);
    expect(t.name).toBe('squash');
    // BullMQ workers need blocking commands that wait through a Redis restart.
    expect(t.connection.maxRetriesPerRequest).toBeNull();
  });

  it.each([
    ['localhost:6379', /not a URL|the scheme is localhost/],
    ['http://h:1', /the scheme is http/],
    ['redis://h/x', /the database number is "x"/],
    ['redis://h/123', /the database number is "123"/],
  ])('refuses %s', (url, message) => {
    expect(() => parseQueueTarget(url)).toThrow(ConfigError);
    expect(() => parseQueueTarget(url)).toThrow(message);
  });

  it('refuses a queue name BullMQ keys cannot hold', () => {
    expect(() => parseQueueTarget('redis://h', 'a:b')).toThrow(/--queue-name "a:b"/);
    expect(parseQueueTarget('redis://h', 'sweep-2.b').name).toBe('sweep-2.b');
  });
});
