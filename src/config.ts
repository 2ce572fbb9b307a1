import path from 'node:path';
import { Cron } from 'croner';
import { z } from 'zod';

/** Where the gateway runs; production turns on the strict checks. */
export type Environment = 'development' | 'production' | 'test';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const duration = int(0, 365 * 24 * 3600 * 1000);

const alertLevel = z.enum(['INFO', 'WARNING', 'ERROR', 'CRITICAL']);

function isCronPattern(pattern: string): boolean {
  try {
    new Cron(pattern, { paused: true, timezone: 'UTC' }).stop();
    return true;
  } catch {
    return false;
  }
}

/** A cron expression (UTC) or `off`. */
const schedule = z
  .string()
  .min(1)
  .refine((v) => v === 'off' || isCronPattern(v), 'must be a cron expression (e.g. "0 1 * * *") or "off"');

const ROLE_NAMES = ['VIEWER', 'ANALYST', 'SENIOR_ANALYST', 'INVESTIGATOR', 'ADMIN', 'SUPER_ADMIN'] as const;

/** A comma-separated list of role names, e.g. `ADMIN,SUPER_ADMIN`. */
const roleList = z
  .string()
  .refine((v) => v.split(',').map((s) => s.trim()).filter(Boolean).every((r) => (ROLE_NAMES as readonly string[]).includes(r)), {
    message: `must be a comma-separated list of ${ROLE_NAMES.join(', ')}`,
  });

/**
 * Every setting Vigil reads, keyed by its environment variable. Defaults are those of a single
 * development machine; `.env.example` documents each one.
 */
const envObject = z.object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: int(0, 65535).default(4000),
    HOST: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    DATABASE_POOL_MAX: int(1, 200).default(10),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
    VIGIL_REDIS_PREFIX: z.string().max(64).default('vigil:'),
    VIGIL_DATA_DIR: z.string().min(1).default('./.vigil'),
    VIGIL_JWT_SECRET: z.string().optional(),
    VIGIL_ADMIN_EMAIL: z.email('must be an email address').optional(),
    VIGIL_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
    VIGIL_ACCESS_TOKEN_TTL_SECONDS: int(1, 24 * 3600).default(900),
    VIGIL_SESSION_IDLE_TIMEOUT_SECONDS: int(1, 90 * 24 * 3600).default(8 * 3600),
    VIGIL_SESSION_MAX_LIFETIME_SECONDS: int(60, 365 * 24 * 3600).default(7 * 24 * 3600),
    VIGIL_MAX_SESSIONS_PER_USER: int(1, 1000).default(5),
    VIGIL_LOCKOUT_THRESHOLD: int(1, 1000).default(5),
    VIGIL_LOCKOUT_WINDOW_SECONDS: int(1, 24 * 3600).default(15 * 60),
    VIGIL_LOCKOUT_DURATION_SECONDS: int(1, 7 * 24 * 3600).default(15 * 60),
    VIGIL_MFA_LOCKOUT_THRESHOLD: int(1, 1000).default(5),
    VIGIL_REFRESH_REUSE_GRACE_SECONDS: int(0, 60).default(5),
    VIGIL_ALERT_SILENCE_MAX_SECONDS: int(60, 90 * 24 * 3600).default(7 * 24 * 3600),
    VIGIL_MFA_REQUIRED_ROLES: roleList.default(''),
    VIGIL_HEALTH_INTERVAL_MS: duration.default(5000),
    VIGIL_HEALTH_CHECK_TIMEOUT_MS: int(50, 60_000).default(2000),
    VIGIL_HEALTH_CACHE_MS: duration.default(1000),
    VIGIL_HEALTH_DB_LATENCY_DEGRADED_MS: int(1, 60_000).optional(),
    VIGIL_HEALTH_DB_POOL_WAITING_DEGRADED: int(1, 10_000).default(5),
    VIGIL_HEALTH_EVENT_LOOP_DEGRADED_MS: int(1, 60_000).optional(),
    VIGIL_HEALTH_EVENT_LOOP_DOWN_MS: int(1, 60_000).optional(),
    VIGIL_MEMORY_LIMIT_MB: int(0, 1024 * 1024).default(0),
    VIGIL_HEALTH_MEMORY_DEGRADED_PERCENT: int(1, 100).default(85),
    VIGIL_HEALTH_MEMORY_DOWN_PERCENT: int(1, 100).default(95),
    VIGIL_HEALTH_DISK_FREE_DEGRADED_PERCENT: int(0, 100).default(10),
    VIGIL_HEALTH_DISK_FREE_DOWN_PERCENT: int(0, 100).default(2),
    VIGIL_HEALTH_BACKUP_DOWN_HOURS: int(1, 24 * 365).default(72),
    VIGIL_HEALTH_AUDIT_VERIFY_MAX_AGE_HOURS: int(1, 24 * 365).default(25),
    VIGIL_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    VIGIL_SLOW_QUERY_MS: int(1, 600_000).default(200),
    VIGIL_SLOW_QUERY_KEEP: int(1, 1000).default(20),
    VIGIL_CACHE_MAX_ENTRIES: int(0, 1_000_000).default(1000),
    VIGIL_INTROSPECTION: z.enum(['on', 'off', 'admin']).optional(),
    VIGIL_GRAPHIQL: bool.optional(),
    VIGIL_CONSOLE: bool.default(true),
    VIGIL_SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
    VIGIL_BODY_LIMIT_BYTES: int(1024, 100 * 1024 * 1024).default(1024 * 1024),
    VIGIL_COMPILED_OPERATIONS: int(0, 100_000).default(1000),
    VIGIL_CORS_ORIGINS: z.string().default(''),
    VIGIL_TRUST_PROXY: z.string().default(''),
    VIGIL_ALLOW_INSECURE_START: bool.default(false),
    VIGIL_RATE_LIMIT_ENABLED: bool.default(true),
    VIGIL_RATE_LIMIT_WINDOW_SECONDS: int(1, 24 * 3600).default(60),
    VIGIL_RATE_LIMIT_ANONYMOUS: int(1, 1_000_000).optional(),
    VIGIL_RATE_LIMIT_USER: int(1, 1_000_000).optional(),
    VIGIL_RATE_LIMIT_ROLES: z
      .string()
      .regex(/^\s*[A-Z_]+\s*=\s*\d+\s*(,\s*[A-Z_]+\s*=\s*\d+\s*)*$/, 'must look like ADMIN=1200,SUPER_ADMIN=1200')
      .optional(),
    VIGIL_RATE_LIMIT_LOGIN: int(1, 1_000_000).optional(),
    VIGIL_RATE_LIMIT_LOGIN_WINDOW_SECONDS: int(1, 24 * 3600).default(300),
    VIGIL_RATE_LIMIT_WS_SUBSCRIBE: int(1, 1_000_000).default(60),
    VIGIL_MAX_DEPTH: int(1, 1000).default(12),
    VIGIL_MAX_ALIASES: int(0, 10_000).default(30),
    VIGIL_MAX_ROOT_FIELDS: int(1, 1000).default(15),
    VIGIL_MAX_DIRECTIVES: int(0, 10_000).default(30),
    VIGIL_MAX_TOKENS: int(10, 1_000_000).default(2500),
    VIGIL_MAX_COST: int(1, 100_000_000).default(50_000),
    VIGIL_COST_DEFAULT_PAGE_SIZE: int(1, 10_000).default(20),
    VIGIL_MAX_VARIABLES_DEPTH: int(1, 1000).default(32),
    VIGIL_MAX_VARIABLES_BYTES: int(1024, 100 * 1024 * 1024).default(256 * 1024),
    VIGIL_WS_MAX_CONNECTIONS_PER_IP: int(1, 1_000_000).optional(),
    VIGIL_WS_MAX_CONNECTIONS_PER_USER: int(1, 1_000_000).optional(),
    VIGIL_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: int(1, 1_000_000).optional(),
    VIGIL_WS_SLOT_LEASE_SECONDS: int(1, 3600).default(30),
    VIGIL_COST_BUDGET: int(1, 1_000_000_000).optional(),
    VIGIL_COST_BUDGET_WINDOW_SECONDS: int(1, 24 * 3600).default(60),
    VIGIL_TRUSTED_DOCUMENTS: z.enum(['off', 'allow-listed']).default('off'),
    VIGIL_TRUSTED_DOCUMENTS_MANIFEST: z.string().min(1).default('./trusted-documents.json'),
    VIGIL_APQ: bool.default(true),
    VIGIL_APQ_TTL_SECONDS: int(0, 365 * 24 * 3600).default(24 * 3600),
    VIGIL_REQUEST_TIMEOUT_MS: int(0, 600_000).default(30_000),
    VIGIL_RESOLVER_TIMEOUT_MS: int(0, 600_000).default(20_000),
    VIGIL_BREAKER_FAILURES: int(1, 1000).default(5),
    VIGIL_BREAKER_COOLDOWN_MS: int(100, 600_000).default(10_000),
    VIGIL_BREAKER_CALL_TIMEOUT_MS: int(10, 60_000).default(500),
    VIGIL_ALERT_COOLDOWN_SECONDS: int(0, 7 * 24 * 3600).default(300),
    VIGIL_ALERT_ESCALATION_SECONDS: int(1, 30 * 24 * 3600).default(900),
    VIGIL_ALERT_ESCALATION_CHECK_MS: int(100, 3_600_000).default(30_000),
    VIGIL_ALERT_DENIALS_THRESHOLD: int(1, 100_000).default(10),
    VIGIL_ALERT_DENIALS_WINDOW_SECONDS: int(1, 24 * 3600).default(300),
    VIGIL_ALERT_DELIVERY_MAX_ATTEMPTS: int(1, 20).default(5),
    VIGIL_ALERT_DELIVERY_BACKOFF_MS: int(1, 600_000).default(1000),
    VIGIL_ALERT_DELIVERY_TIMEOUT_MS: int(100, 120_000).default(5000),
    VIGIL_ALERT_LOG_MIN_LEVEL: alertLevel.default('INFO'),
    VIGIL_ALERT_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
    VIGIL_ALERT_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    VIGIL_ALERT_WEBHOOK_MIN_LEVEL: alertLevel.default('WARNING'),
    VIGIL_ALERT_SLACK_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
    VIGIL_ALERT_SLACK_MIN_LEVEL: alertLevel.default('ERROR'),
    VIGIL_ALERT_SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').optional(),
    VIGIL_ALERT_EMAIL_TO: z.string().optional(),
    VIGIL_ALERT_EMAIL_FROM: z.string().default('vigil@localhost'),
    VIGIL_ALERT_EMAIL_MIN_LEVEL: alertLevel.default('ERROR'),
    VIGIL_WS_MAX_QUEUE: int(1, 1_000_000).default(1000),
    PG_BIN_DIR: z.string().min(1).optional(),
    PATH: z.string().default('/usr/local/bin:/usr/bin:/bin'),
    VIGIL_BACKUP_DIR: z.string().min(1).optional(),
    VIGIL_BACKUP_SCHEDULE: schedule.default('0 1 * * *'),
    VIGIL_BACKUP_DRILL_SCHEDULE: schedule.default('0 3 * * 0'),
    VIGIL_BACKUP_KEEP_LAST: int(0, 100_000).default(7),
    VIGIL_BACKUP_KEEP_DAYS: int(0, 36_500).default(0),
    VIGIL_BACKUP_MAX_AGE_HOURS: int(1, 24 * 365).default(26),
    VIGIL_AUDIT_RETENTION_DAYS: int(0, 36_500).default(365),
    VIGIL_AUDIT_RETENTION_SCHEDULE: schedule.default('30 2 * * *'),
    VIGIL_AUDIT_VERIFY_SCHEDULE: schedule.default('15 * * * *'),
    VIGIL_SETTINGS_POLL_MS: int(100, 60_000).default(1000),
  });

const envSchema = envObject.superRefine((env, ctx) => {
  if (env.NODE_ENV === 'production' && !env.VIGIL_JWT_SECRET) {
    ctx.addIssue({ code: 'custom', path: ['VIGIL_JWT_SECRET'], message: 'is required in production' });
  }
  if (env.VIGIL_JWT_SECRET !== undefined && Buffer.byteLength(env.VIGIL_JWT_SECRET) < 32) {
    ctx.addIssue({ code: 'custom', path: ['VIGIL_JWT_SECRET'], message: 'must be at least 32 bytes' });
  }
});

/** The name of an environment variable Vigil reads. */
export type EnvironmentVariable = keyof typeof envObject.shape;

/**
 * The zod schema of one environment variable, as `loadConfig` applies it: the runtime settings
 * (src/services/settings) validate stored values with these same schemas.
 */
export function variableSchema(name: EnvironmentVariable): z.ZodType {
  return envObject.shape[name];
}

/** The validated, typed configuration every part of Vigil receives; nothing else reads `process.env`. */
export interface Config {
  env: Environment;
  port: number;
  host: string;
  logLevel: string;
  /** Absent: an embedded PostgreSQL under `dataDir` is started. */
  databaseUrl?: string;
  databasePoolMax: number;
  /** Absent: pub/sub, caches and limits stay in-process (one instance only). */
  redisUrl?: string;
  redisPrefix: string;
  dataDir: string;
  jwtSecret?: string;
  admin: { email?: string; password?: string };
  /** The variables the environment set explicitly (the others have their defaults); the settings report it as a value's source. */
  environmentVariables: ReadonlySet<string>;
  /** Runtime settings: how often each instance re-reads them from PostgreSQL (the fallback when a Redis notice is lost). */
  settings: { pollMs: number };
  auth: {
    accessTokenTtlSeconds: number;
    sessionIdleTimeoutSeconds: number;
    sessionMaxLifetimeSeconds: number;
    maxSessionsPerUser: number;
    lockoutThreshold: number;
    lockoutWindowSeconds: number;
    lockoutDurationSeconds: number;
    /** Wrong second-factor codes (sign-in, confirmMfa, disableMfa) per account within the lockout window before the second factor locks for the lockout duration. */
    mfaLockoutThreshold: number;
    /** A used refresh token presented again this soon, by the same client, returns the pair it was rotated into instead of revoking the session; 0 turns the grace off. */
    refreshReuseGraceSeconds: number;
    /** Roles whose members must have a second factor to sign in. */
    mfaRequiredRoles: string[];
  };
  health: {
    intervalMs: number;
    checkTimeoutMs: number;
    cacheMs: number;
    /** A database round trip slower than this is DEGRADED. */
    dbLatencyDegradedMs: number;
    /** This many callers waiting for a pooled connection is DEGRADED. */
    dbPoolWaitingDegraded: number;
    eventLoopDegradedMs: number;
    eventLoopDownMs: number;
    /** 0: the V8 heap limit for the heap and total system memory for RSS. */
    memoryLimitBytes: number;
    memoryDegradedPercent: number;
    memoryDownPercent: number;
    diskFreeDegradedPercent: number;
    diskFreeDownPercent: number;
    /** No successful backup for this long is DOWN (DEGRADED from `backups.maxAgeHours`). */
    backupDownHours: number;
    auditVerifyMaxAgeHours: number;
  };
  observability: {
    /** When set, `/metrics` needs `Authorization: Bearer <token>`. */
    metricsToken?: string;
    slowQueryMs: number;
    slowQueryKeep: number;
    cacheMaxEntries: number;
  };
  introspection: 'on' | 'off' | 'admin';
  /** Browser tools served by the gateway itself (no CDN). */
  ui: {
    /** The GraphQL IDE at `GET /graphql` for `Accept: text/html`; default on, off in production. */
    graphiql: boolean;
    /** The live console at `GET /console`; default on. */
    console: boolean;
  };
  shutdownTimeoutMs: number;
  bodyLimitBytes: number;
  /**
   * Operations kept compiled by graphql-jit (least recently used dropped); 0 runs every operation
   * through graphql-js. See src/schema/executor.ts.
   */
  compiledOperations: number;
  corsOrigins: string[];
  trustProxy: string[];
  allowInsecureStart: boolean;
  protection: ProtectionConfig;
  alerts: {
    /** A repeat of a fingerprint within this many seconds of its last sighting counts instead of creating an alert. */
    cooldownSeconds: number;
    /** An ERROR or CRITICAL alert unacknowledged this long escalates (and again each further period). */
    escalationSeconds: number;
    /** How often one instance looks for alerts to escalate. */
    escalationCheckMs: number;
    /** This many permission denials of one actor within the window raise an alert. */
    denialsThreshold: number;
    denialsWindowSeconds: number;
    /** Attempts per delivery (webhook, Slack, email), with exponential backoff from `backoffMs`. */
    deliveryMaxAttempts: number;
    deliveryBackoffMs: number;
    deliveryTimeoutMs: number;
    logMinLevel: AlertLevelName;
    /** The lowest level each channel delivers, whether or not the channel is configured (runtime settings show all four). */
    minLevels: { log: AlertLevelName; webhook: AlertLevelName; slack: AlertLevelName; email: AlertLevelName };
    webhook?: { url: string; secret?: string; minLevel: AlertLevelName };
    slack?: { url: string; minLevel: AlertLevelName };
    email?: { smtpUrl: string; to: string[]; from: string; minLevel: AlertLevelName };
    /** Events a websocket subscription may have waiting before its connection is closed as too slow. */
    wsMaxQueue: number;
    /** The longest a silence may last; one without `until` lasts this long (or until a matching alert resolves). */
    silenceMaxSeconds: number;
  };
  backups: {
    /** Where pg_dump / pg_restore are looked for before PATH. */
    pgBinDir?: string;
    /** Directories searched for pg_dump after `pgBinDir` (the process PATH). */
    searchPath: string;
    /** Where backup files and their manifests live; shared storage when several instances run. */
    dir: string;
    /** Cron expression (UTC) of scheduled backups; null: off. */
    schedule: string | null;
    /** Cron expression (UTC) of restore drills; null: off. */
    drillSchedule: string | null;
    /** Keep at least the newest N successful backups; 0: no count rule. */
    keepLast: number;
    /** Keep every backup younger than D days; 0: no age rule. */
    keepDays: number;
    /** No successful backup for this long raises BACKUP_STALE. */
    maxAgeHours: number;
  };
  audit: {
    /** Entries older than this many days are removed by the retention job; 0: kept forever. */
    retentionDays: number;
    /** Cron expression (UTC) of the retention job (one instance runs it); null: off. */
    retentionSchedule: string | null;
    /** Cron expression (UTC) of the scheduled chain verification (one instance runs it); null: off. */
    verifySchedule: string | null;
  };
}

/** An alert level as configuration names it (the `AlertLevel` enum's values). */
export type AlertLevelName = 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

/** Rate limits, operation limits, trusted documents and timeouts (README, "Protection"). */
export interface ProtectionConfig {
  rateLimit: {
    enabled: boolean;
    windowSeconds: number;
    /** Requests per window per client IP without a token. */
    anonymous: number;
    /** Requests per window per signed-in user. */
    user: number;
    /** Per-role overrides of `user`, keyed by role name. */
    roles: Partial<Record<string, number>>;
    /** Sign-in attempts per IP and email within `loginWindowSeconds`. */
    login: number;
    loginWindowSeconds: number;
    /** Subscribe messages per window per websocket connection. */
    wsSubscribe: number;
  };
  limits: {
    maxDepth: number;
    maxAliases: number;
    maxRootFields: number;
    maxDirectives: number;
    maxTokens: number;
    maxCost: number;
    /** What a connection field without `first` counts as in the cost analysis. */
    defaultPageSize: number;
  };
  /** Bounds of a request's variables, checked at the edge before anything walks them (BAD_USER_INPUT). */
  variables: {
    /** Deepest nesting of objects and lists. */
    maxDepth: number;
    /** Approximate size in bytes (characters of strings and keys). */
    maxBytes: number;
  };
  /** Operation cost a user (or an anonymous IP) may spend per window. */
  costBudget: { points: number; windowSeconds: number };
  /** Websocket budgets (README, "Protection"): connection caps for the cluster when Redis is shared, else per instance. */
  websocket: {
    /** Open connections per client IP (close code 4029 beyond). */
    maxConnectionsPerIp: number;
    /** Open signed-in connections per user (close code 4029 beyond). */
    maxConnectionsPerUser: number;
    /** Live operations (subscriptions, and queries in flight) per connection (RATE_LIMITED beyond). */
    maxSubscriptionsPerConnection: number;
    /** How long the connection slots of an instance that died still count (they are renewed while it lives). */
    slotLeaseMs: number;
  };
  trustedDocuments: { mode: 'off' | 'allow-listed'; manifestPath: string };
  apq: { enabled: boolean; ttlSeconds: number };
  /** Time to receive a whole request (0: none). */
  requestTimeoutMs: number;
  /** Time a Query root field may take (0: none). */
  resolverTimeoutMs: number;
  breaker: { failureThreshold: number; cooldownMs: number; callTimeoutMs: number };
}

/** Raised when a setting is wrong; its message is one line naming the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * Anonymous requests per window and IP when `VIGIL_RATE_LIMIT_ANONYMOUS` is unset: 60 in
 * production; in development 6,000, enough for code generators introspecting, GraphiQL and the
 * GraphQL-over-HTTP audit from one machine; in tests 100,000.
 */
export const ANONYMOUS_LIMIT_DEFAULT = { production: 60, development: 6_000, test: 100_000 } as const;

/**
 * Parses and validates the environment into a {@link Config}.
 * @throws {ConfigError} naming the first variable that is wrong and why.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.path.join('.') || 'environment';
    throw new ConfigError(`Invalid setting ${name}: ${issue.message}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.VIGIL_REDIS_PREFIX,
    dataDir: path.resolve(e.VIGIL_DATA_DIR),
    jwtSecret: e.VIGIL_JWT_SECRET,
    admin: { email: e.VIGIL_ADMIN_EMAIL, password: e.VIGIL_ADMIN_PASSWORD },
    environmentVariables: new Set(Object.keys(raw).filter((name) => name in envObject.shape)),
    settings: { pollMs: e.VIGIL_SETTINGS_POLL_MS },
    auth: {
      accessTokenTtlSeconds: e.VIGIL_ACCESS_TOKEN_TTL_SECONDS,
      sessionIdleTimeoutSeconds: e.VIGIL_SESSION_IDLE_TIMEOUT_SECONDS,
      sessionMaxLifetimeSeconds: e.VIGIL_SESSION_MAX_LIFETIME_SECONDS,
      maxSessionsPerUser: e.VIGIL_MAX_SESSIONS_PER_USER,
      lockoutThreshold: e.VIGIL_LOCKOUT_THRESHOLD,
      lockoutWindowSeconds: e.VIGIL_LOCKOUT_WINDOW_SECONDS,
      lockoutDurationSeconds: e.VIGIL_LOCKOUT_DURATION_SECONDS,
      mfaLockoutThreshold: e.VIGIL_MFA_LOCKOUT_THRESHOLD,
      refreshReuseGraceSeconds: e.VIGIL_REFRESH_REUSE_GRACE_SECONDS,
      mfaRequiredRoles: list(e.VIGIL_MFA_REQUIRED_ROLES),
    },
    health: {
      intervalMs: e.VIGIL_HEALTH_INTERVAL_MS,
      checkTimeoutMs: e.VIGIL_HEALTH_CHECK_TIMEOUT_MS,
      cacheMs: e.VIGIL_HEALTH_CACHE_MS,
      // Test runs share two cores between many servers: the production thresholds would flap.
      dbLatencyDegradedMs: e.VIGIL_HEALTH_DB_LATENCY_DEGRADED_MS ?? (e.NODE_ENV === 'test' ? 5000 : 500),
      dbPoolWaitingDegraded: e.VIGIL_HEALTH_DB_POOL_WAITING_DEGRADED,
      eventLoopDegradedMs: e.VIGIL_HEALTH_EVENT_LOOP_DEGRADED_MS ?? (e.NODE_ENV === 'test' ? 5000 : 200),
      eventLoopDownMs: e.VIGIL_HEALTH_EVENT_LOOP_DOWN_MS ?? (e.NODE_ENV === 'test' ? 30_000 : 1000),
      memoryLimitBytes: e.VIGIL_MEMORY_LIMIT_MB * 1024 * 1024,
      memoryDegradedPercent: e.VIGIL_HEALTH_MEMORY_DEGRADED_PERCENT,
      memoryDownPercent: e.VIGIL_HEALTH_MEMORY_DOWN_PERCENT,
      diskFreeDegradedPercent: e.VIGIL_HEALTH_DISK_FREE_DEGRADED_PERCENT,
      diskFreeDownPercent: e.VIGIL_HEALTH_DISK_FREE_DOWN_PERCENT,
      backupDownHours: e.VIGIL_HEALTH_BACKUP_DOWN_HOURS,
      auditVerifyMaxAgeHours: e.VIGIL_HEALTH_AUDIT_VERIFY_MAX_AGE_HOURS,
    },
    observability: {
      metricsToken: e.VIGIL_METRICS_TOKEN,
      slowQueryMs: e.VIGIL_SLOW_QUERY_MS,
      slowQueryKeep: e.VIGIL_SLOW_QUERY_KEEP,
      cacheMaxEntries: e.VIGIL_CACHE_MAX_ENTRIES,
    },
    introspection: e.VIGIL_INTROSPECTION ?? (production ? 'off' : 'on'),
    ui: { graphiql: e.VIGIL_GRAPHIQL ?? !production, console: e.VIGIL_CONSOLE },
    shutdownTimeoutMs: e.VIGIL_SHUTDOWN_TIMEOUT_MS,
    bodyLimitBytes: e.VIGIL_BODY_LIMIT_BYTES,
    compiledOperations: e.VIGIL_COMPILED_OPERATIONS,
    corsOrigins: list(e.VIGIL_CORS_ORIGINS),
    trustProxy: list(e.VIGIL_TRUST_PROXY),
    allowInsecureStart: e.VIGIL_ALLOW_INSECURE_START,
    protection: {
      rateLimit: {
        enabled: e.VIGIL_RATE_LIMIT_ENABLED,
        windowSeconds: e.VIGIL_RATE_LIMIT_WINDOW_SECONDS,
        // Test suites sign in and query far more often than a person; on a developer's machine
        // codegen, GraphiQL and the GraphQL-over-HTTP audit all ask anonymously from one address.
        // Explicit settings still apply.
        anonymous: e.VIGIL_RATE_LIMIT_ANONYMOUS ?? ANONYMOUS_LIMIT_DEFAULT[e.NODE_ENV],
        user: e.VIGIL_RATE_LIMIT_USER ?? (e.NODE_ENV === 'test' ? 100_000 : 300),
        roles: Object.fromEntries(
          list(e.VIGIL_RATE_LIMIT_ROLES ?? (e.NODE_ENV === 'test' ? '' : 'ADMIN=1200,SUPER_ADMIN=1200')).map((pair) => {
            const [role, points] = pair.split('=').map((s) => s.trim());
            return [role!, Number(points)];
          }),
        ),
        login: e.VIGIL_RATE_LIMIT_LOGIN ?? (e.NODE_ENV === 'test' ? 100_000 : 10),
        loginWindowSeconds: e.VIGIL_RATE_LIMIT_LOGIN_WINDOW_SECONDS,
        wsSubscribe: e.VIGIL_RATE_LIMIT_WS_SUBSCRIBE,
      },
      limits: {
        maxDepth: e.VIGIL_MAX_DEPTH,
        maxAliases: e.VIGIL_MAX_ALIASES,
        maxRootFields: e.VIGIL_MAX_ROOT_FIELDS,
        maxDirectives: e.VIGIL_MAX_DIRECTIVES,
        maxTokens: e.VIGIL_MAX_TOKENS,
        maxCost: e.VIGIL_MAX_COST,
        defaultPageSize: e.VIGIL_COST_DEFAULT_PAGE_SIZE,
      },
      variables: { maxDepth: e.VIGIL_MAX_VARIABLES_DEPTH, maxBytes: e.VIGIL_MAX_VARIABLES_BYTES },
      websocket: {
        // A dashboard holds one connection per tab and a handful of subscriptions on each; test
        // suites open many more from one address.
        maxConnectionsPerIp: e.VIGIL_WS_MAX_CONNECTIONS_PER_IP ?? (e.NODE_ENV === 'test' ? 10_000 : 25),
        maxConnectionsPerUser: e.VIGIL_WS_MAX_CONNECTIONS_PER_USER ?? (e.NODE_ENV === 'test' ? 10_000 : 10),
        maxSubscriptionsPerConnection: e.VIGIL_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION ?? (e.NODE_ENV === 'test' ? 10_000 : 50),
        slotLeaseMs: e.VIGIL_WS_SLOT_LEASE_SECONDS * 1000,
      },
      costBudget: {
        points: e.VIGIL_COST_BUDGET ?? (e.NODE_ENV === 'test' ? 100_000_000 : 500_000),
        windowSeconds: e.VIGIL_COST_BUDGET_WINDOW_SECONDS,
      },
      trustedDocuments: {
        mode: e.VIGIL_TRUSTED_DOCUMENTS,
        manifestPath: path.resolve(e.VIGIL_TRUSTED_DOCUMENTS_MANIFEST),
      },
      apq: { enabled: e.VIGIL_APQ, ttlSeconds: e.VIGIL_APQ_TTL_SECONDS },
      requestTimeoutMs: e.VIGIL_REQUEST_TIMEOUT_MS,
      resolverTimeoutMs: e.VIGIL_RESOLVER_TIMEOUT_MS,
      breaker: {
        failureThreshold: e.VIGIL_BREAKER_FAILURES,
        cooldownMs: e.VIGIL_BREAKER_COOLDOWN_MS,
        callTimeoutMs: e.VIGIL_BREAKER_CALL_TIMEOUT_MS,
      },
    },
    alerts: {
      cooldownSeconds: e.VIGIL_ALERT_COOLDOWN_SECONDS,
      escalationSeconds: e.VIGIL_ALERT_ESCALATION_SECONDS,
      escalationCheckMs: e.VIGIL_ALERT_ESCALATION_CHECK_MS,
      denialsThreshold: e.VIGIL_ALERT_DENIALS_THRESHOLD,
      denialsWindowSeconds: e.VIGIL_ALERT_DENIALS_WINDOW_SECONDS,
      deliveryMaxAttempts: e.VIGIL_ALERT_DELIVERY_MAX_ATTEMPTS,
      deliveryBackoffMs: e.VIGIL_ALERT_DELIVERY_BACKOFF_MS,
      deliveryTimeoutMs: e.VIGIL_ALERT_DELIVERY_TIMEOUT_MS,
      logMinLevel: e.VIGIL_ALERT_LOG_MIN_LEVEL,
      minLevels: {
        log: e.VIGIL_ALERT_LOG_MIN_LEVEL,
        webhook: e.VIGIL_ALERT_WEBHOOK_MIN_LEVEL,
        slack: e.VIGIL_ALERT_SLACK_MIN_LEVEL,
        email: e.VIGIL_ALERT_EMAIL_MIN_LEVEL,
      },
      webhook: e.VIGIL_ALERT_WEBHOOK_URL
        ? { url: e.VIGIL_ALERT_WEBHOOK_URL, secret: e.VIGIL_ALERT_WEBHOOK_SECRET, minLevel: e.VIGIL_ALERT_WEBHOOK_MIN_LEVEL }
        : undefined,
      slack: e.VIGIL_ALERT_SLACK_WEBHOOK_URL
        ? { url: e.VIGIL_ALERT_SLACK_WEBHOOK_URL, minLevel: e.VIGIL_ALERT_SLACK_MIN_LEVEL }
        : undefined,
      email:
        e.VIGIL_ALERT_SMTP_URL && e.VIGIL_ALERT_EMAIL_TO
          ? {
              smtpUrl: e.VIGIL_ALERT_SMTP_URL,
              to: list(e.VIGIL_ALERT_EMAIL_TO),
              from: e.VIGIL_ALERT_EMAIL_FROM,
              minLevel: e.VIGIL_ALERT_EMAIL_MIN_LEVEL,
            }
          : undefined,
      wsMaxQueue: e.VIGIL_WS_MAX_QUEUE,
      silenceMaxSeconds: e.VIGIL_ALERT_SILENCE_MAX_SECONDS,
    },
    backups: {
      pgBinDir: e.PG_BIN_DIR,
      searchPath: e.PATH,
      dir: path.resolve(e.VIGIL_BACKUP_DIR ?? path.join(e.VIGIL_DATA_DIR, 'backups')),
      schedule: e.VIGIL_BACKUP_SCHEDULE === 'off' ? null : e.VIGIL_BACKUP_SCHEDULE,
      drillSchedule: e.VIGIL_BACKUP_DRILL_SCHEDULE === 'off' ? null : e.VIGIL_BACKUP_DRILL_SCHEDULE,
      keepLast: e.VIGIL_BACKUP_KEEP_LAST,
      keepDays: e.VIGIL_BACKUP_KEEP_DAYS,
      maxAgeHours: e.VIGIL_BACKUP_MAX_AGE_HOURS,
    },
    audit: {
      retentionDays: e.VIGIL_AUDIT_RETENTION_DAYS,
      retentionSchedule: e.VIGIL_AUDIT_RETENTION_SCHEDULE === 'off' ? null : e.VIGIL_AUDIT_RETENTION_SCHEDULE,
      verifySchedule: e.VIGIL_AUDIT_VERIFY_SCHEDULE === 'off' ? null : e.VIGIL_AUDIT_VERIFY_SCHEDULE,
    },
  };
}

/** How OpenTelemetry traces leave the process; see {@link tracingSettings}. */
export interface TracingSettings {
  /** Off unless an OTLP endpoint or OTEL_TRACES_EXPORTER says otherwise. */
  enabled: boolean;
  /** `otlp` (to a collector) or `console` (stdout, for a quick look). */
  exporter: 'otlp' | 'console';
  /** OTLP over HTTP, protobuf (the standard's default) or JSON. */
  protocol: 'http/protobuf' | 'http/json';
}

/**
 * Tracing from the standard OpenTelemetry variables (the SDK reads the rest of them itself:
 * OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER …).
 * On when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, or
 * OTEL_TRACES_EXPORTER names an exporter; OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true turn
 * it off. gRPC and other exporters than otlp and console are refused with a ConfigError.
 */
export function tracingSettings(env: NodeJS.ProcessEnv = process.env): TracingSettings {
  const value = (name: string) => (env[name] ?? '').trim();
  const exporters = value('OTEL_TRACES_EXPORTER')
    .split(',')
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean);
  const endpoint = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') || value('OTEL_EXPORTER_OTLP_ENDPOINT');
  const protocol = (value('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') || value('OTEL_EXPORTER_OTLP_PROTOCOL') || 'http/protobuf').toLowerCase();
  const off: TracingSettings = { enabled: false, exporter: 'otlp', protocol: 'http/protobuf' };
  if (value('OTEL_SDK_DISABLED').toLowerCase() === 'true' || exporters.includes('none')) return off;
  if (!exporters.length && !endpoint) return off;
  const unknown = exporters.find((e) => e !== 'otlp' && e !== 'console');
  if (unknown) throw new ConfigError(`Invalid setting OTEL_TRACES_EXPORTER: ${unknown} is not supported (otlp, console or none)`);
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new ConfigError(`Invalid setting OTEL_EXPORTER_OTLP_PROTOCOL: ${protocol} is not supported (http/protobuf or http/json)`);
  }
  return { enabled: true, exporter: exporters.includes('console') && !exporters.includes('otlp') ? 'console' : 'otlp', protocol };
}
