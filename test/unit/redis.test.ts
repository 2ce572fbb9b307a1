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
