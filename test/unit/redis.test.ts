import { randomBytes } from 'node:crypto';
import { closeRedis, createRedis, type Redis } from '../../src/infra/redis';
import { createLogger } from '../../src/infra/logger';
import { testRedisUrl } from '../helpers/database';

describe('createRedis / closeRedis', () => {
  const logger = createLogger('silent');
  const opened: Redis[] = [];
  const open = (name: string) => {
    const redis = createRedis(testRedisUrl(), logger, name);
    opened.push(redis);
    return redis;
  };
  afterEach(() => Promise.all(opened.splice(0).map(closeRedis)));

  it('should auto-pipeline commands, except on a subscriber', () => {
    expect(open('main').options.enableAutoPipelining).toBe(true);
    expect(open('subscriber').options.enableAutoPipelining).toBe(false);
    expect(open('cli-subscriber').options.enableAutoPipelining).toBe(false);
  });

  it('should answer a scripted command defined while a pipeline is open in the same turn, and not crash', async () => {
    const redis = open('main');
    await redis.ping();
    const key = `test:script:${randomBytes(4).toString('hex')}`;
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      // The GET opens this turn's pipeline; the command is defined after it, as a limiter made at run time does.
      const before = redis.get(key);
      redis.defineCommand('vigilTestIncr', { numberOfKeys: 1, lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])" });
      const scripted = (redis as unknown as { vigilTestIncr(key: string, by: number): Promise<number> }).vigilTestIncr(key, 5);
      const after = redis.get(key);
      const [, incremented, read] = await Promise.all([before, scripted, after]);
      expect(incremented).toBe(5);
      expect(read).toBe('5');
      await new Promise((resolve) => setImmediate(resolve));
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await redis.del(key);
    }
  });

  it('should deliver a PUBLISH issued just before closing', async () => {
    const channel = `test:close:${randomBytes(4).toString('hex')}`;
    const subscriber = open('subscriber');
    await subscriber.subscribe(channel);
    const received = new Promise<string>((resolve) => subscriber.on('message', (_channel, message) => resolve(message)));
    const publisher = createRedis(testRedisUrl(), logger, 'main');
    await publisher.ping();
    void publisher.publish(channel, 'last words');
    await closeRedis(publisher);
    let timer: NodeJS.Timeout | undefined;
    const nothing = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('nothing within 2 s'), 2000)));
    expect(await Promise.race([received, nothing])).toBe('last words');
    clearTimeout(timer);
  });
});
