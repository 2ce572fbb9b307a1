import type { VigilCache } from '../../infra/cache';
import type { MikroORM } from '../../infra/db';
import { databasePoolSnapshot } from '../../infra/db-pool';
import type { PoolSnapshot } from '../../infra/metrics';
import { SlowStatementTracker, type SlowStatement } from '../../infra/slow-statements';

/** Connections to the gateway's database in one `pg_stat_activity` state. */
export interface ConnectionStateCount {
  state: string;
  count: number;
}

export interface TableSize {
  /** `schema.table` */
  name: string;
  /** Table, indexes and TOAST (`pg_total_relation_size`). */
  totalBytes: number;
  /** The planner's row estimate (`pg_class.reltuples`); null before the first ANALYZE. */
  rowEstimate: number | null;
}

/** What `dbStats` reports. */
export interface DatabaseStatsReport {
  databaseName: string;
  sizeBytes: number;
  connections: ConnectionStateCount[];
  largestTables: TableSize[];
  /** Share of block reads served from PostgreSQL's buffer cache; null before any read. */
  cacheHitRatioPercent: number | null;
  slowStatementThresholdMs: number;
  slowStatements: SlowStatement[];
  /** This instance's connection pool. */
  pool: PoolSnapshot | null;
  checkedAt: Date;
}

type ServerStats = Omit<DatabaseStatsReport, 'slowStatements' | 'slowStatementThresholdMs' | 'pool' | 'checkedAt'> & { checkedAt: string };

const LARGEST_TABLES = 10;
/** The catalog queries are cheap but not free; admins refreshing a dashboard share one answer. */
const CACHE_MS = 5000;

/**
 * Database statistics for administrators, from PostgreSQL's statistics views and this gateway's
 * own statement timings (it watches every statement the ORM sends from construction until `stop`).
 */
export class DbStatsService {
  private readonly tracker: SlowStatementTracker;

  constructor(
    private readonly orm: MikroORM,
    private readonly cache: VigilCache,
    slow: { thresholdMs: number; keep: number },
  ) {
    this.tracker = new SlowStatementTracker(slow.thresholdMs, slow.keep);
    this.tracker.attach(orm.em.getConnection().getKnex());
  }

  stop(): void {
    this.tracker.stop();
  }

  async stats(): Promise<DatabaseStatsReport> {
    const server = await this.cache.getOrLoad<ServerStats>('dbstats:server', CACHE_MS, () => this.serverStats());
    return {
      ...server,
      checkedAt: new Date(server.checkedAt),
      slowStatementThresholdMs: this.tracker.thresholdMs,
      slowStatements: this.tracker.top(),
      pool: databasePoolSnapshot(this.orm) ?? null,
    };
  }

  private async serverStats(): Promise<ServerStats> {
    const conn = this.orm.em.getConnection();
    const [database, connections, tables, io] = await Promise.all([
      conn.execute<{ name: string; size: string }[]>(
        'select current_database() as name, pg_database_size(current_database())::text as size',
      ),
      conn.execute<{ state: string; count: number }[]>(
        `select coalesce(state, 'background') as state, count(*)::int as count
           from pg_stat_activity where datname = current_database() group by 1 order by 1`,
      ),
      conn.execute<{ name: string; total_bytes: string; row_estimate: string | null }[]>(
        `select n.nspname || '.' || c.relname as name,
                pg_total_relation_size(c.oid)::text as total_bytes,
                case when c.reltuples < 0 then null else c.reltuples::bigint::text end as row_estimate
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where c.relkind in ('r', 'p', 'm')
            and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
          order by pg_total_relation_size(c.oid) desc, 1
          limit ${LARGEST_TABLES}`,
      ),
      conn.execute<{ hit: string | null; read: string | null }[]>(
        'select blks_hit::text as hit, blks_read::text as read from pg_stat_database where datname = current_database()',
      ),
    ]);
    const hit = Number(io[0]?.hit ?? 0);
    const read = Number(io[0]?.read ?? 0);
    return {
      databaseName: database[0]!.name,
      sizeBytes: Number(database[0]!.size),
      connections: connections.map((c) => ({ state: c.state, count: Number(c.count) })),
      largestTables: tables.map((t) => ({
        name: t.name,
        totalBytes: Number(t.total_bytes),
        rowEstimate: t.row_estimate === null ? null : Number(t.row_estimate),
      })),
      cacheHitRatioPercent: hit + read > 0 ? Math.round((hit / (hit + read)) * 10_000) / 100 : null,
      checkedAt: new Date().toISOString(),
    };
  }
}
