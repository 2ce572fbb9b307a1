import type { MikroORM } from './db';
import type { PoolSnapshot } from './metrics';

/** The slice of tarn's pool (knex's connection pool) that is read for health and metrics. */
interface TarnPool {
  max: number;
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

/** Connections in use, idle and waited for in the ORM's pool; undefined once the pool is gone. */
export function databasePoolSnapshot(orm: MikroORM): PoolSnapshot | undefined {
  const client = orm.em.getConnection().getKnex().client as { pool?: TarnPool | null };
  const pool = client.pool;
  if (!pool) return undefined;
  return {
    used: pool.numUsed(),
    free: pool.numFree(),
    pending: pool.numPendingAcquires(),
    max: pool.max,
  };
}
