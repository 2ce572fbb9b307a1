import 'reflect-metadata';
import { MetadataStorage } from '@mikro-orm/core';
import { migrate, openOrm } from '../../src/infra/db';
import { createLogger } from '../../src/infra/logger';
import { startPostgres, withClient, type TestPostgres } from './postgres';
import { startRedis, type TestRedis } from './redis';

/** The name of the migrated database every test database is copied from. */
export const TEMPLATE_DATABASE = 'vigil_template';

declare global {
  var __vigilServices: { postgres: TestPostgres; redis: TestRedis } | undefined;
}

/**
 * Starts one PostgreSQL and one Redis for the whole run on free loopback ports, migrates a template
 * database, and hands their addresses to the test workers through the environment.
 */
export default async function globalSetup(): Promise<void> {
  const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  globalThis.__vigilServices = { postgres, redis };
  const stopOnExit = () => {
    void postgres.destroy();
    void redis.stop();
  };
  process.once('SIGINT', stopOnExit);
  process.once('SIGTERM', stopOnExit);

  await withClient(postgres.url(), (c) => c.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`));
  const orm = await openOrm(postgres.url(TEMPLATE_DATABASE), 2, createLogger('silent'));
  try {
    await migrate(orm);
  } finally {
    await orm.close(true);
    // MikroORM keeps entity metadata on globalThis; jest copies this process's globals into the
    // test context when it runs in band, where metadata made with this realm's Map breaks discovery.
    MetadataStorage.clear();
  }
  process.env.VIGIL_TEST_PG_URL = postgres.url();
  process.env.VIGIL_TEST_PG_TEMPLATE = TEMPLATE_DATABASE;
  process.env.VIGIL_TEST_REDIS_URL = redis.url;
}
