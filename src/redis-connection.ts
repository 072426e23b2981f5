/**
 * Every Redis connection the bot opens, from REDIS_URL:
 *   redis://[:password@]host:port[/db]        one server (rediss:// for TLS)
 *   redis+sentinel://[:password@]host1:26379,host2:26379/master-name[/db]
 *                                              Redis Sentinel: the bot asks the sentinels which server
 *                                              is the master, and follows a failover by itself
 * (Redis Cluster is not supported: BullMQ's scripts and ours touch several keys at once.)
 */
import { Redis, type RedisOptions } from 'ioredis';

/** The host(s) a URL points at, for messages (never the password). */
export function redisWhere(url: string): string {
  const m = /^[a-z+]+:\/\/(?:[^@/]*@)?([^/?]+)/i.exec(url);
  return m?.[1] ?? url;
}

/** Whether REDIS_URL is a form the bot can connect to. */
export function isRedisUrl(url: string): boolean {
  return /^rediss?:\/\//i.test(url) || sentinelOptions(url) !== undefined;
}

function sentinelOptions(url: string): RedisOptions | undefined {
  const m = /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/?]+)\/([^/?]+)(?:\/(\d+))?\/?$/i.exec(url);
  if (!m) return undefined;
  const [, auth, hosts, name, db] = m;
  const password = auth ? decodeURIComponent(auth.includes(':') ? auth.slice(auth.indexOf(':') + 1) : auth) : undefined;
  const sentinels = (hosts as string).split(',').map((h) => {
    const [host, port] = h.split(':');
    return { host: host as string, port: Number(port || 26379) };
  });
  return { sentinels, name: decodeURIComponent(name as string), ...(password ? { password } : {}), ...(db ? { db: Number(db) } : {}) };
}

/** A connection (not yet connected: `lazyConnect`) for REDIS_URL, with `options` on top. */
export function redisConnection(url: string, options: RedisOptions = {}): Redis {
  const sentinel = sentinelOptions(url);
  if (sentinel) return new Redis({ ...sentinel, lazyConnect: true, ...options });
  return new Redis(url, { lazyConnect: true, ...options });
}
