import type { Config } from '../config';
import type { MikroORM } from '../infra/db';
import type { Logger } from '../infra/logger';
import type { VigilPubSub } from '../infra/pubsub';
import type { Redis } from '../infra/redis';
import { databaseCheck, redisCheck } from './health/checks';
import { HealthService } from './health/health.service';

/** What the services are built from. */
export interface ServiceDeps {
  config: Config;
  orm: MikroORM;
  redis?: Redis;
  pubsub: VigilPubSub;
  logger: Logger;
}

/** The domain, one service per area; resolvers call these and never the database. */
export interface Services {
  health: HealthService;
}

export function createServices(deps: ServiceDeps): Services {
  const { config, orm, redis, logger } = deps;
  const health = new HealthService({
    checks: [databaseCheck(orm), ...(redis ? [redisCheck(redis)] : [])],
    checkTimeoutMs: config.health.checkTimeoutMs,
    cacheMs: config.health.cacheMs,
    intervalMs: config.health.intervalMs,
    logger: logger.child({ component: 'health' }),
  });
  return { health };
}

/** Starts background work (monitors, schedules) once the server listens. */
export function startServices(services: Services): void {
  services.health.start();
}

/** Stops background work before the database and Redis close. */
export async function stopServices(services: Services): Promise<void> {
  services.health.stop();
}
