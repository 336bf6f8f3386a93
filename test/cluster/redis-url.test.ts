/** `--cluster` URLs: parsing, refusal with exit-2 errors, redaction, and logging in to a real Redis. */
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { describeClusterUrl, ioredisOptions, parseClusterUrl, redact, redactUrl } from '../../src/cluster/redis-url.js';
import { isInputError } from '../../src/errors.js';
import { redisServerPath, startRedis, stopAllRedis } from './redis.js';

const REDIS = redisServerPath();
afterAll(stopAllRedis);

function refusal(text: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseClusterUrl(text, env);
  } catch (err) {
    if (!isInputError(err) || err.code !== 'E_USAGE') throw err;
    return err.message;
  }
  throw new Error(`accepted ${text}`);
}

describe('parseClusterUrl', () => {
  it('takes host, port, database, user and password; defaults port 6379 and db 0', () => {
    expect(parseClusterUrl('redis://127.0.0.1', {})).toEqual({ tls: false, host: '127.0.0.1', port: 6379, db: 0, password_from: null });
    expect(parseClusterUrl('rediss://alice:p%40ss%3Aw%2Frd@redis.example.com:6380/3', {})).toEqual({
      tls: true,
      host: 'redis.example.com',
      port: 6380,
      db: 3,
      username: 'alice',
      password: 'p@ss:w/rd',
      password_from: 'url',
    });
    expect(parseClusterUrl('redis://:secret@h:1/', {})).toMatchObject({ password: 'secret', port: 1, db: 0 });
  });

  it('takes a bracketed IPv6 host and hands it to ioredis bare, as IPv6', () => {
    const u = parseClusterUrl('redis://[::1]:7000/2', {});
    expect(u).toMatchObject({ host: '::1', port: 7000, db: 2 });
    expect(ioredisOptions(u)).toMatchObject({ host: '::1', port: 7000, db: 2, family: 6 });
    expect(describeClusterUrl(u)).toBe('redis://[::1]:7000/2');
  });

  it('rediss:// turns TLS on with the host name as SNI (none for an IP)', () => {
    expect(ioredisOptions(parseClusterUrl('rediss://r.example:6380', {})).tls).toEqual({ servername: 'r.example' });
    expect(ioredisOptions(parseClusterUrl('rediss://10.1.2.3:6380', {})).tls).toEqual({});
    expect(ioredisOptions(parseClusterUrl('redis://10.1.2.3', {})).tls).toBeUndefined();
  });

  it('takes the password from AGENTOS_REDIS_PASSWORD when the URL has none', () => {
    expect(parseClusterUrl('redis://h', { AGENTOS_REDIS_PASSWORD: 'envpw' })).toMatchObject({ password: 'envpw', password_from: 'env' });
    expect(parseClusterUrl('redis://:urlpw@h', { AGENTOS_REDIS_PASSWORD: 'envpw' })).toMatchObject({ password: 'urlpw', password_from: 'url' });
    expect(parseClusterUrl('redis://bob@h', { AGENTOS_REDIS_PASSWORD: 'envpw' })).toMatchObject({ username: 'bob', password: 'envpw' });
  });

  it('refuses what is not a usable Redis URL, saying what and how to fix it, without the password', () => {
    expect(refusal('http://h:1')).toMatch(/scheme 'http' is not redis or rediss.*Fix: expected redis:\/\//);
    expect(refusal('127.0.0.1:6379')).toMatch(/not redis or rediss|not a URL/);
    expect(refusal('redis://')).toMatch(/not a URL|no host/);
    expect(refusal('redis://h:99999')).toMatch(/not a URL/);
    expect(refusal('redis://h:0')).toMatch(/port 0/);
    expect(refusal('redis://h/abc')).toMatch(/not a database number/);
    expect(refusal('redis://h?tls=true')).toMatch(/query parameters/);
    expect(refusal('redis://bob@h')).toMatch(/user 'bob' has no password/);
    const m = refusal('redis://bob:hunter2@h/x');
    expect(m).not.toContain('hunter2');
    expect(m).toContain("redis://bob:***@h/x");
    expect(refusal('ftp://bob:hunter2@h')).not.toContain('hunter2');
    expect(refusal('redis://bob:hun#ter2@h')).not.toContain('hun');
  });
});

describe('redaction', () => {
  it('hides passwords in URLs and in messages', () => {
    expect(redactUrl('redis://u:p%40w@h:1/2')).toBe('redis://u:***@h:1/2');
    expect(redactUrl('rediss://:pw@h')).toBe('rediss://:***@h');
    expect(redactUrl('redis://h:1')).toBe('redis://h:1');
    expect(redactUrl('redis://u:a@b@h')).toBe('redis://u:***@h');
    const u = parseClusterUrl('redis://u:p%40w@h:1', {});
    expect(describeClusterUrl(u)).toBe('redis://u:***@h:1');
    expect(redact('auth p@w failed (p%40w)', u)).toBe('auth *** failed (***)');
    expect(JSON.stringify(describeClusterUrl(parseClusterUrl('redis://h', { AGENTOS_REDIS_PASSWORD: 'zz9' })))).not.toContain('zz9');
  });
});

describe.skipIf(!REDIS)('logging in with the URL', () => {
  it('a password (requirepass) and an ACL user:password from the URL open a session; a wrong one is refused', async () => {
    const withPass = await startRedis({ password: 'pa ss@w:rd' });
    const withUser = await startRedis({ user: { name: 'agentos', password: 's3cr%t' } });
    const ping = async (url: string): Promise<string> => {
      const c = new Redis(ioredisOptions(parseClusterUrl(url, {}), { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: true }));
      const errors: string[] = [];
      c.on('error', (err: Error) => errors.push(err.message));
      try {
        await c.connect();
        return await c.ping();
      } catch (err) {
        return [...errors, (err as Error).message].join('; ');
      } finally {
        c.disconnect();
      }
    };
    expect(withPass.url).toContain('pa%20ss%40w%3Ard');
    expect(await ping(withPass.url)).toBe('PONG');
    expect(await ping(withUser.url)).toBe('PONG');
    expect(await ping(`redis://:wrong@127.0.0.1:${withPass.port}`)).toMatch(/WRONGPASS|invalid/i);
    expect(await ping(`redis://agentos:wrong@127.0.0.1:${withUser.port}`)).toMatch(/WRONGPASS|invalid/i);
  });
});
