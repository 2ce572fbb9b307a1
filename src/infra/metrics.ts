import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The Prometheus content type of {@link VigilMetrics.registry}'s exposition. */
export type { Registry } from 'prom-client';

/** Where the gauges that are read at scrape time get their values from. */
export interface PoolSnapshot {
  used: number;
  free: number;
  pending: number;
  max: number;
}

/**
 * Every metric the gateway exports, registered on one registry per server (never prom-client's
 * global default registry: tests run several servers in one process). Other areas increment the
 * counters they own:
 * - alerts: `metrics.alertsRaised.inc({ level })`
 * - protection: `metrics.rateLimited.inc({ scope })` (`scope`: `ip`, `user`, `budget` …)
 * - identity: `metrics.credentialChecks.inc({ kind })`
 * - backups: `metrics.backupDuration.observe({ trigger, outcome }, seconds)` and
 *   `metrics.backupSize.observe({ trigger }, bytes)`
 */
export interface VigilMetrics {
  registry: Registry;
  /** `vigil_http_request_duration_seconds{method,route,status_code}` */
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** `vigil_graphql_operation_duration_seconds{operation_name,operation_type,outcome}` (outcome `ok` or `error`) */
  graphqlOperationDuration: Histogram<'operation_name' | 'operation_type' | 'outcome'>;
  /** `vigil_graphql_errors_total{code}` */
  graphqlErrors: Counter<'code'>;
  /** `vigil_websocket_connections` (open sockets on this instance) */
  wsConnections: Gauge;
  /** `vigil_websocket_subscriptions` (active subscription streams on this instance) */
  wsSubscriptions: Gauge;
  /** `vigil_websocket_slow_subscribers_total` (connections closed with 4008) */
  wsSlowSubscribers: Counter;
  /** `vigil_alerts_raised_total{level}` */
  alertsRaised: Counter<'level'>;
  /** `vigil_rate_limited_requests_total{scope}` */
  rateLimited: Counter<'scope'>;
  /** `vigil_backup_duration_seconds{trigger,outcome}` */
  backupDuration: Histogram<'trigger' | 'outcome'>;
  /** `vigil_backup_size_bytes{trigger}` */
  backupSize: Histogram<'trigger'>;
  /** `vigil_cache_hits_total{layer}` / `vigil_cache_misses_total{layer}` (`layer`: `redis` or `memory`) */
  cacheHits: Counter<'layer'>;
  cacheMisses: Counter<'layer'>;
  /**
   * `vigil_credential_checks_total{kind}`: secrets actually verified at sign-in and for the second
   * factor (`kind`: `password` — one argon2 verification each —, `totp`, `recovery-code`); attempts
   * refused by a lockout before any check are not counted.
   */
  credentialChecks: Counter<'kind'>;
  /** `vigil_websocket_disconnects_total{code}`: websocket closes by close code (unusual codes as `other`). */
  wsDisconnects: Counter<'code'>;
  /** Reads the database pool at scrape time (`vigil_db_pool_connections{state}`, `vigil_db_pool_max`). */
  observePool(snapshot: () => PoolSnapshot | undefined): void;
  /**
   * Reads the health components at scrape time: `vigil_health_component_status{component}`
   * (0 UP, 1 DEGRADED, 2 DOWN), the series the alert rules in ops/ watch.
   */
  observeHealth(snapshot: () => Promise<readonly ComponentStatus[]>): void;
  /** Reads the last successful backup at scrape time (`vigil_backup_last_success_timestamp_seconds`; absent before the first). */
  observeLastBackup(snapshot: () => Promise<Date | null>): void;
  /** Reads the last audit-chain verification at scrape time (`vigil_audit_chain_ok`: 1 intact, 0 broken; absent before the first). */
  observeAuditChain(snapshot: () => boolean | null): void;
}

/** One health component as the metrics see it. */
export interface ComponentStatus {
  component: string;
  status: 'UP' | 'DEGRADED' | 'DOWN';
}

/** The value `vigil_health_component_status` gives each status. */
export const HEALTH_STATUS_VALUE: Readonly<Record<ComponentStatus['status'], number>> = { UP: 0, DEGRADED: 1, DOWN: 2 };

/** Close codes counted under their own label; anything else (clients may send any 3000–4999) is `other`. */
const KNOWN_CLOSE_CODES = new Set([1000, 1001, 1005, 1006, 1008, 1009, 1011, 1013, 4400, 4401, 4403, 4408, 4409, 4429, 4499, 4500, 4008]);

/** The label a websocket close code is counted under. */
export function closeCodeLabel(code: number): string {
  return KNOWN_CLOSE_CODES.has(code) ? String(code) : 'other';
}

/** Creates the metrics of one server on a fresh registry, with the process defaults. */
export function createMetrics(): VigilMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vigil_' });
  const registers = [registry];
  let poolSnapshot: (() => PoolSnapshot | undefined) | undefined;
  let healthSnapshot: (() => Promise<readonly ComponentStatus[]>) | undefined;
  let lastBackupSnapshot: (() => Promise<Date | null>) | undefined;
  let auditChainSnapshot: (() => boolean | null) | undefined;
  // A scrape must answer even when a dependency hangs or fails: the gauge is then left out.
  const settle = <T>(read: () => Promise<T>): Promise<T | undefined> =>
    Promise.race([read().catch(() => undefined), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3000).unref())]);

  new Gauge({
    name: 'vigil_health_component_status',
    help: 'Health of each component: 0 UP, 1 DEGRADED, 2 DOWN',
    labelNames: ['component'],
    registers,
    async collect() {
      const components = healthSnapshot ? await settle(healthSnapshot) : undefined;
      this.reset();
      for (const c of components ?? []) this.set({ component: c.component }, HEALTH_STATUS_VALUE[c.status]);
    },
  });
  new Gauge({
    name: 'vigil_backup_last_success_timestamp_seconds',
    help: 'When the last successful backup finished (Unix seconds)',
    registers,
    async collect() {
      const at = lastBackupSnapshot ? await settle(lastBackupSnapshot) : undefined;
      this.reset();
      if (at) this.set(at.getTime() / 1000);
    },
  });
  new Gauge({
    name: 'vigil_audit_chain_ok',
    help: 'Result of the last audit-chain verification: 1 intact, 0 broken',
    registers,
    collect() {
      const ok = auditChainSnapshot?.();
      this.reset();
      if (ok !== null && ok !== undefined) this.set(ok ? 1 : 0);
    },
  });

  new Gauge({
    name: 'vigil_db_pool_connections',
    help: 'Database pool connections by state (used, free, pending acquisitions)',
    labelNames: ['state'],
    registers,
    collect() {
      const pool = poolSnapshot?.();
      if (!pool) return;
      this.set({ state: 'used' }, pool.used);
      this.set({ state: 'free' }, pool.free);
      this.set({ state: 'pending' }, pool.pending);
    },
  });
  new Gauge({
    name: 'vigil_db_pool_max',
    help: 'Largest number of connections the database pool opens',
    registers,
    collect() {
      const pool = poolSnapshot?.();
      if (pool) this.set(pool.max);
    },
  });

  return {
    registry,
    httpRequestDuration: new Histogram({
      name: 'vigil_http_request_duration_seconds',
      help: 'HTTP request duration by method, route and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    graphqlOperationDuration: new Histogram({
      name: 'vigil_graphql_operation_duration_seconds',
      help: 'GraphQL operation duration by operation name and type',
      labelNames: ['operation_name', 'operation_type', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    graphqlErrors: new Counter({
      name: 'vigil_graphql_errors_total',
      help: 'GraphQL errors sent to clients, by extensions.code',
      labelNames: ['code'],
      registers,
    }),
    wsConnections: new Gauge({ name: 'vigil_websocket_connections', help: 'Open websocket connections', registers }),
    wsSubscriptions: new Gauge({ name: 'vigil_websocket_subscriptions', help: 'Active subscription streams', registers }),
    wsSlowSubscribers: new Counter({ name: 'vigil_websocket_slow_subscribers_total', help: 'Websocket connections closed because a subscription fell too far behind (4008)', registers }),
    alertsRaised: new Counter({ name: 'vigil_alerts_raised_total', help: 'Alerts raised, by level', labelNames: ['level'], registers }),
    rateLimited: new Counter({
      name: 'vigil_rate_limited_requests_total',
      help: 'Requests refused by a rate limit or budget, by scope',
      labelNames: ['scope'],
      registers,
    }),
    backupDuration: new Histogram({
      name: 'vigil_backup_duration_seconds',
      help: 'Backup duration by trigger and outcome',
      labelNames: ['trigger', 'outcome'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    }),
    backupSize: new Histogram({
      name: 'vigil_backup_size_bytes',
      help: 'Size of the compressed backups written, by trigger',
      labelNames: ['trigger'],
      buckets: [1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11],
      registers,
    }),
    cacheHits: new Counter({ name: 'vigil_cache_hits_total', help: 'Cache hits by layer', labelNames: ['layer'], registers }),
    cacheMisses: new Counter({ name: 'vigil_cache_misses_total', help: 'Cache misses by layer', labelNames: ['layer'], registers }),
    credentialChecks: new Counter({
      name: 'vigil_credential_checks_total',
      help: 'Passwords and second-factor codes verified, by kind (password, totp, recovery-code)',
      labelNames: ['kind'],
      registers,
    }),
    wsDisconnects: new Counter({ name: 'vigil_websocket_disconnects_total', help: 'Websocket connections closed, by close code', labelNames: ['code'], registers }),
    observePool(snapshot) {
      poolSnapshot = snapshot;
    },
    observeHealth(snapshot) {
      healthSnapshot = snapshot;
    },
    observeLastBackup(snapshot) {
      lastBackupSnapshot = snapshot;
    },
    observeAuditChain(snapshot) {
      auditChainSnapshot = snapshot;
    },
  };
}
