import { Redis } from 'ioredis';
import type { Logger } from './logger';

export type { Redis } from 'ioredis';

/**
 * Connects to Redis. Commands fail after a short retry instead of queueing for ever, so a Redis
 * outage degrades the features that use it rather than stalling requests.
 */
export function createRedis(url: string, logger: Logger, name: string): Redis {
  const redis = new Redis(url, {
    connectionName: `vigil-${name}`,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    lazyConnect: false,
  });
  let wasReady = false;
  redis.on('ready', () => {
    if (wasReady) logger.info({ client: name }, 'redis connection restored');
    wasReady = true;
  });
  redis.on('error', (error) => logger.warn({ client: name, err: error.message }, 'redis connection error'));
  return redis;
}

/** Closes a client politely, or at once if the server is gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await Promise.race([redis.quit(), new Promise((_, reject) => setTimeout(reject, 1000))]);
  } catch {
    redis.disconnect();
  }
}
