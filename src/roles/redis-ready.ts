/**
 * Opening a Redis connection at start: it may still be starting beside us,
 * so the start waits for it (ioredis keeps retrying meanwhile), and a failure
 * names REDIS_URL and the last connection error rather than an ioredis stack.
 */
import type { Redis, RedisOptions } from 'ioredis';
import type { Logger } from '../logger.ts';
import { redisConnection, redisWhere } from '../redis-connection.ts';
import type { Closers } from './closers.ts';

const REDIS_READY_TIMEOUT_MS = 30_000;

/** Waits until `redis` answers, for up to REDIS_READY_TIMEOUT_MS. */
export async function connect(redis: Redis, url: string): Promise<void> {
  let lastError: string | undefined;
  const onError = (err: NodeJS.ErrnoException) => {
    lastError = err.code ?? err.message;
  };
  redis.on('error', onError);
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      redis.once('ready', () => resolve());
      redis.connect().catch(() => undefined); // the first failure is not the last try: wait for 'ready'
      timer = setTimeout(
        () => reject(new Error(`cannot reach Redis at ${redisWhere(url)} (REDIS_URL)${lastError ? `: ${lastError}` : ''}; is it running, and is REDIS_URL right?`)),
        REDIS_READY_TIMEOUT_MS,
      );
    });
  } finally {
    clearTimeout(timer);
    redis.off('error', onError);
  }
}

/**
 * A connection to REDIS_URL for one part of the process (`name`, in its log
 * lines and shutdown step), connected; closed at shutdown, also when the wait
 * for it fails, so a failed start leaves no connection retrying.
 */
export async function openRedis(url: string, name: string, options: RedisOptions, logger: Logger, closers: Closers): Promise<Redis> {
  const redis = redisConnection(url, options);
  redis.on('error', (err) => logger.warn({ err, redis: redisWhere(url), connection: name }, 'Redis connection error (REDIS_URL)'));
  closers.add(name, () => redis.quit());
  await connect(redis, url);
  return redis;
}
