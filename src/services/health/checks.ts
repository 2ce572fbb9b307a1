import type { MikroORM } from '@mikro-orm/postgresql';
import type { Redis } from 'ioredis';
import { HealthStatus } from '../../schema/enums';
import type { HealthCheck } from './health-check';

/** Round trip to PostgreSQL through the ORM's pool. */
export function databaseCheck(orm: MikroORM): HealthCheck {
  return {
    name: 'database',
    critical: true,
    async run() {
      const started = performance.now();
      await orm.em.getConnection().execute('select 1');
      return { status: HealthStatus.UP, observedValue: performance.now() - started, observedUnit: 'ms' };
    },
  };
}

/** Round trip to Redis; without it the gateway degrades to in-process pub/sub and limits. */
export function redisCheck(redis: Redis): HealthCheck {
  return {
    name: 'redis',
    critical: false,
    async run() {
      const started = performance.now();
      await redis.ping();
      return { status: HealthStatus.UP, observedValue: performance.now() - started, observedUnit: 'ms' };
    },
  };
}
