/**
 * Every Redis connection the bot opens, from REDIS_URL:
 *   redis://[:password@]host:port[/db]        one server (rediss:// for TLS)
 *   redis+sentinel://[:password@]host1:26379,host2:26379/master-name[/db]
 *                                              Redis Sentinel: the bot asks the sentinels which server
 *                                              is the master, and follows a failover by itself
 *   redis+cluster://[:password@]host1:6379,host2:6379
 *                                              Redis Cluster: every key the bot and BullMQ use carries
 *                                              the hash tag `{QUEUE_PREFIX}` (see keyPrefixFor), so the
 *                                              scripts that touch several keys at once find them in one slot
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** The host(s) a URL points at, for messages (never the password). */
export function redisWhere(url: string): string {
  const m = /^[a-z+]+:\/\/(?:[^@/]*@)?([^/?]+)/i.exec(url);
  return m?.[1] ?? url;
}

/** Whether REDIS_URL is a form the bot can connect to. */
export function isRedisUrl(url: string): boolean {
  return /^rediss?:\/\//i.test(url) || sentinelOptions(url) !== undefined || clusterOptions(url) !== undefined;
}

function passwordOf(auth: string | undefined): { password?: string } {
  if (!auth) return {};
  return { password: decodeURIComponent(auth.includes(':') ? auth.slice(auth.indexOf(':') + 1) : auth) };
}

function hostsOf(hosts: string, defaultPort: number): { host: string; port: number }[] {
  return hosts.split(',').map((h) => {
    const [host, port] = h.split(':');
    return { host: host as string, port: Number(port || defaultPort) };
  });
}

function sentinelOptions(url: string): RedisOptions | undefined {
  const m = /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/?]+)\/([^/?]+)(?:\/(\d+))?\/?$/i.exec(url);
  if (!m) return undefined;
  const [, auth, hosts, name, db] = m;
  return { sentinels: hostsOf(hosts as string, 26379), name: decodeURIComponent(name as string), ...passwordOf(auth), ...(db ? { db: Number(db) } : {}) };
}

function clusterOptions(url: string): { nodes: { host: string; port: number }[]; password?: string } | undefined {
  const m = /^redis\+cluster:\/\/(?:([^@/]*)@)?([^/?]+)\/?$/i.exec(url);
  if (!m) return undefined;
  return { nodes: hostsOf(m[2] as string, 6379), ...passwordOf(m[1]) };
}

/**
 * The prefix of every key: QUEUE_PREFIX, as a hash tag on Redis Cluster so that
 * all the bot's keys (and BullMQ's) live in one slot, as multi-key scripts need.
 */
export function keyPrefixFor(url: string, prefix: string): string {
  return clusterOptions(url) ? `{${prefix}}` : prefix;
}

/** A connection (not yet connected: `lazyConnect`) for REDIS_URL, with `options` on top. */
export function redisConnection(url: string, options: RedisOptions = {}): Redis {
  const sentinel = sentinelOptions(url);
  if (sentinel) return new Redis({ ...sentinel, lazyConnect: true, ...options });
  const cluster = clusterOptions(url);
  if (cluster) {
    const { enableAutoPipelining, lazyConnect, ...redisOptions } = options;
    // A Cluster speaks every command a single server does; the bot (and BullMQ) use it through the same type.
    return new Cluster(cluster.nodes, {
      lazyConnect: lazyConnect ?? true,
      enableAutoPipelining,
      redisOptions: { ...redisOptions, ...(cluster.password ? { password: cluster.password } : {}) },
    }) as unknown as Redis;
  }
  return new Redis(url, { lazyConnect: true, ...options });
}
