import type { Config } from '../config';
import { tracedService } from '../infra/tracing';
import type { MikroORM } from '../infra/db';
import type { Logger } from '../infra/logger';
import type { VigilPubSub } from '../infra/pubsub';
import type { Redis } from '../infra/redis';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { VigilCache } from '../infra/cache';
import { databasePoolSnapshot } from '../infra/db-pool';
import { createMetrics, type VigilMetrics } from '../infra/metrics';
import {
  auditChainCheck,
  backupFreshnessCheck,
  backupToolCheck,
  databaseCheck,
  diskCheck,
  eventLoopCheck,
  memoryCheck,
  redisCheck,
  type BackupFreshnessSource,
} from './health/checks';
import { DbStatsService } from './observability/db-stats.service';
import { SecurityAuditService } from './security/security-audit.service';
import { HealthService } from './health/health.service';
import { AuditService } from './audit/audit.service';
import { InvestigationService } from './investigations/investigation.service';
import { AuthService } from './auth/auth.service';
import { ConnectionRegistry } from './auth/connection-registry';
import { ROLE_ORDER, type Role } from '../permissions/roles';
import { resolveSigningKey } from './auth/signing-key';
import { UserService } from './users/user.service';
import { BackupService } from './backups/backup.service';
import { createAlertService } from './alerts/create-alert-service';
import type { AlertService } from './alerts/alert.service';
import { SettingsService } from './settings/settings.service';
import { maintenanceCheck } from './settings/maintenance-check';
import { maintenanceFence } from './backups/maintenance-fence';
import { alertThresholdsView, backupPolicyView, identityView } from './settings/live-views';
import { systemMeta } from '../context';

/** Every instance's monitor asks for the last backup; the shared cache lets them ask the database once. */
const lastBackupThroughCache = (backups: BackupFreshnessSource, cache: VigilCache): BackupFreshnessSource => ({
  async lastSuccessfulBackupAt() {
    const iso = await cache.getOrLoad('health:last-successful-backup', 5000, async () => (await backups.lastSuccessfulBackupAt())?.toISOString() ?? null);
    return iso ? new Date(iso) : null;
  },
});

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
  /** Prometheus metrics of this server (`src/infra/metrics.ts` lists what each area increments). */
  metrics: VigilMetrics;
  /** The response/entity cache (Redis when connected, in-process otherwise). */
  cache: VigilCache;
  dbStats: DbStatsService;
  securityAudit: SecurityAuditService;
  audit: AuditService;
  investigations: InvestigationService;
  /** Sign-in, sessions, MFA, access-token checks. */
  auth: AuthService;
  users: UserService;
  /** This instance's signed-in websocket connections, closed when their session ends. */
  connections: ConnectionRegistry;
  /** Backups, verification, restore, retention, schedules and restore drills. */
  backups: BackupService;
  /** Alerts: raising, dedup, acknowledgement, escalation, silences, delivery and the live feed. */
  alerts: AlertService;
  /** Runtime settings (live on every instance), their history, and the cluster-wide maintenance state. */
  settings: SettingsService;
}

export function createServices(deps: ServiceDeps): Services {
  const { config, orm, redis, logger } = deps;
  const metrics = createMetrics();
  metrics.observePool(() => databasePoolSnapshot(orm));
  const cache = new VigilCache({
    redis,
    prefix: config.redisPrefix,
    maxEntries: config.observability.cacheMaxEntries,
    metrics,
    logger: logger.child({ component: 'cache' }),
  });
  const h = config.health;
  const instanceId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const health = new HealthService({
    checks: [
      databaseCheck(orm, { latencyDegradedMs: h.dbLatencyDegradedMs, poolWaitingDegraded: h.dbPoolWaitingDegraded }),
      ...(redis ? [redisCheck(redis)] : []),
      eventLoopCheck({ degradedMs: h.eventLoopDegradedMs, downMs: h.eventLoopDownMs }),
      memoryCheck({ limitBytes: h.memoryLimitBytes, degradedPercent: h.memoryDegradedPercent, downPercent: h.memoryDownPercent }),
      diskCheck({ data: config.dataDir, backups: config.backups.dir }, { freeDegradedPercent: h.diskFreeDegradedPercent, freeDownPercent: h.diskFreeDownPercent }),
    ],
    checkTimeoutMs: h.checkTimeoutMs,
    cacheMs: h.cacheMs,
    intervalMs: h.intervalMs,
    logger: logger.child({ component: 'health' }),
    pubsub: deps.pubsub,
    instanceId,
  });
  const dbStats = new DbStatsService(orm, cache, { thresholdMs: config.observability.slowQueryMs, keep: config.observability.slowQueryKeep });
  const securityAudit = new SecurityAuditService(config);
  const audit = new AuditService({
    orm,
    pubsub: deps.pubsub,
    logger: logger.child({ component: 'audit' }),
    retentionDays: (): number => settings.values.retention.auditRetentionDays,
    retentionSchedule: config.audit.retentionSchedule,
    verifySchedule: config.audit.verifySchedule,
  });
  health.addCheck(auditChainCheck(audit, { maxAgeHours: h.auditVerifyMaxAgeHours }));
  const settings: SettingsService = new SettingsService({ config, orm, pubsub: deps.pubsub, logger: logger.child({ component: 'settings' }), audit, instanceId });
  health.addCheck(maintenanceCheck(settings));
  const investigations = new InvestigationService({ audit, pubsub: deps.pubsub, logger: logger.child({ component: 'investigations' }) });
  const connections = new ConnectionRegistry(deps.pubsub, logger.child({ component: 'connections' }), orm, redis ? { redis, prefix: config.redisPrefix } : undefined);
  const auth = new AuthService({
    config,
    orm,
    logger: logger.child({ component: 'auth' }),
    audit,
    connections,
    signingKey: resolveSigningKey(config),
    metrics,
    settings: identityView(config, settings),
  });
  // Open websockets follow a change of the roles that require a second factor at once.
  settings.onChange((next, previous) => {
    const [now, before] = [next.values.identity.mfaRequired, previous.values.identity.mfaRequired];
    if (ROLE_ORDER.every((role) => now[role] === before[role])) return;
    connections.closeWhereRightsChanged(
      (c) => c.role !== undefined && c.mfaEnabled !== undefined && auth.mfaEnrollmentRequired(c.role as Role, c.mfaEnabled) !== !!c.mfaEnrollmentRequired,
    );
  });
  const users = new UserService({ config, orm, logger: logger.child({ component: 'users' }), audit, auth });
  const backups = new BackupService({
    config,
    orm,
    pubsub: deps.pubsub,
    logger: logger.child({ component: 'backups' }),
    audit,
    instanceId,
    policy: backupPolicyView(settings),
    fence: maintenanceFence(settings),
    metrics,
  });
  settings.onChange((next, previous) => {
    const [a, b] = [next.values.retention, previous.values.retention];
    if (a.backupSchedule !== b.backupSchedule || a.drillSchedule !== b.drillSchedule) backups.reschedule();
  });
  // Read at each check: the freshness limit is a runtime setting.
  const freshness = { get degradedHours() { return settings.values.retention.backupMaxAgeHours; }, downHours: h.backupDownHours };
  health.addCheck(backupFreshnessCheck(lastBackupThroughCache(backups, cache), freshness));
  health.addCheck(backupToolCheck(backups));
  const alerts = createAlertService({
    config,
    orm,
    pubsub: deps.pubsub,
    redis,
    logger: logger.child({ component: 'alerts' }),
    audit,
    investigations,
    health,
    thresholds: alertThresholdsView(settings),
    metrics,
  });
  settings.setAlertRaiser((data) => alerts.raise(systemMeta('systemSettingsChanged'), data));
  metrics.observeHealth(async () => (await health.check()).components.map((c) => ({ component: c.name, status: c.status })));
  metrics.observeLastBackup(lastBackupThroughCache(backups, cache).lastSuccessfulBackupAt);
  metrics.observeAuditChain(() => audit.lastVerification()?.ok ?? null);
  return {
    health,
    audit: tracedService(audit, 'AuditService'),
    metrics,
    cache,
    dbStats: tracedService(dbStats, 'DbStatsService'),
    securityAudit,
    investigations: tracedService(investigations, 'InvestigationService'),
    auth: tracedService(auth, 'AuthService'),
    users: tracedService(users, 'UserService'),
    connections,
    backups: tracedService(backups, 'BackupService'),
    alerts: tracedService(alerts, 'AlertService'),
    settings,
  };
}

/** Starts background work (monitors, schedules) once the server listens. */
export function startServices(services: Services): void {
  services.settings.start();
  services.health.start();
  services.audit.start();
  services.connections.start();
  services.backups.start();
  services.alerts.start();
}

/** Stops background work before the database and Redis close. */
export async function stopServices(services: Services): Promise<void> {
  services.health.stop();
  await services.alerts.stop();
  await services.audit.stop();
  services.dbStats.stop();
  await services.connections.stop();
  await services.backups.stop();
  await services.settings.stop();
}
