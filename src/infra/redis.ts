import { Redis } from 'ioredis';
import type { Logger } from './logger';

export type { Redis } from 'ioredis';

/**
 * Connects to Redis. Commands fail after a short retry instead of queueing for ever, so a Redis
 * outage degrades the features that use it rather than stalling requests. Commands issued in the
 * same event-loop turn go out as one pipeline (ioredis auto-pipelining), so concurrent requests
 * share their rate-limit and cost-budget round trips (only while the connection is up); not on a
 * client named `subscriber` or `…-subscriber`, which only (un)subscribes.
 */
export function createRedis(url: string, logger: Logger, name: string): Redis {
  const redis = new Redis(url, {
    connectionName: `vigil-${name}`,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    lazyConnect: false,
    // A subscriber gains nothing ((UN)SUBSCRIBE are never auto-pipelined), and auto-pipelining has
    // sent a subscriber's SELECT after its SUBSCRIBE: https://github.com/redis/ioredis/issues/1505
    enableAutoPipelining: !/(^|-)subscriber$/.test(name),
  });
  // A pipeline copies the client's scripted commands when it is opened: a command defined later (a
  // rate limiter made while the server runs defines its Lua command) and called in the same turn is
  // missing from the open pipeline, and ioredis then answers the pipeline's other callers with
  // `results[i] is not iterable` thrown outside any promise, which ends the process
  // (https://github.com/redis/ioredis/issues/1931). Scripted commands are therefore sent on their own.
  const define = redis.defineCommand.bind(redis);
  redis.defineCommand = (name, definition) => {
    const ignored = (redis.options.autoPipeliningIgnoredCommands ??= []);
    if (!ignored.includes(name)) ignored.push(name);
    define(name, definition);
  };
  let wasReady = false;
  const pipelining = redis.options.enableAutoPipelining;
  redis.on('ready', () => {
    if (wasReady) logger.info({ client: name }, 'redis connection restored');
    wasReady = true;
    redis.options.enableAutoPipelining = pipelining;
  });
  // An auto-pipeline cut by a lost connection can call back with fewer results than commands,
  // and ioredis then throws inside its own callback (https://github.com/redis/ioredis/issues/1931):
  // while the connection is down, commands go out (and fail) one by one instead.
  const offline = () => {
    redis.options.enableAutoPipelining = false;
  };
  redis.on('close', offline);
  redis.on('reconnecting', offline);
  redis.on('error', (error) => logger.warn({ client: name, err: error.message }, 'redis connection error'));
  return redis;
}

/** Closes a client politely, or at once if the server is gone. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  // Auto-pipelined commands are sent on a later turn of the event loop, QUIT at once: without
  // this wait, a PUBLISH issued just before closing (the CLI's session events) would be lost.
  const deadline = Date.now() + 1000;
  while (redis.autoPipelineQueueSize > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
  try {
    await Promise.race([redis.quit(), new Promise((_, reject) => setTimeout(reject, 1000))]);
  } catch {
    redis.disconnect();
  }
}
