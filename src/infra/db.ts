import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, ReflectMetadataProvider, type Options } from '@mikro-orm/postgresql';
import { ENTITIES } from '../entities';
import { MIGRATIONS } from '../migrations';
import type { Logger } from './logger';

export type { EntityManager, MikroORM } from '@mikro-orm/postgresql';

/** MikroORM options for a database URL; the CLI, the server and the tests share them. */
export function ormOptions(clientUrl: string, poolMax = 10, logger?: Logger): Options {
  return {
    clientUrl,
    entities: ENTITIES,
    metadataProvider: ReflectMetadataProvider,
    discovery: { disableDynamicFileAccess: true, requireEntitiesArray: true },
    extensions: [Migrator],
    migrations: {
      migrationsList: MIGRATIONS,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      tableName: 'mikro_orm_migrations',
    },
    pool: { min: 0, max: poolMax, acquireTimeoutMillis: 10_000, idleTimeoutMillis: 30_000 },
    driverOptions: {
      acquireConnectionTimeout: 10_000,
      // knex writes pool errors to the console by default; route them to the structured log.
      log: {
        warn: (message: unknown) => logger?.warn({ component: 'knex' }, String(message)),
        error: (message: unknown) => logger?.warn({ component: 'knex' }, String(message)),
        deprecate: () => undefined,
        debug: () => undefined,
      },
    },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    debug: false,
    logger: logger ? (message) => logger.debug({ component: 'orm' }, message) : undefined,
  };
}

/** Opens the ORM on a database. */
export function openOrm(clientUrl: string, poolMax: number, logger: Logger): Promise<MikroORM> {
  return MikroORM.init(ormOptions(clientUrl, poolMax, logger));
}

/** Applies every pending migration; returns the names applied. */
export async function migrate(orm: MikroORM): Promise<string[]> {
  const applied = await orm.getMigrator().up();
  return applied.map((m) => m.name);
}
