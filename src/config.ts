import path from 'node:path';
import { z } from 'zod';

/** Where the gateway runs; production turns on the strict checks. */
export type Environment = 'development' | 'production' | 'test';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const duration = int(0, 365 * 24 * 3600 * 1000);

/**
 * Every setting Vigil reads, keyed by its environment variable. Defaults are those of a single
 * development machine; `.env.example` documents each one.
 */
const envSchema = z
  .object({
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
    VIGIL_ACCESS_TOKEN_TTL_SECONDS: int(30, 24 * 3600).default(900),
    VIGIL_SESSION_IDLE_TIMEOUT_SECONDS: int(60, 90 * 24 * 3600).default(8 * 3600),
    VIGIL_SESSION_MAX_LIFETIME_SECONDS: int(60, 365 * 24 * 3600).default(7 * 24 * 3600),
    VIGIL_MAX_SESSIONS_PER_USER: int(1, 1000).default(5),
    VIGIL_LOCKOUT_THRESHOLD: int(1, 1000).default(5),
    VIGIL_LOCKOUT_WINDOW_SECONDS: int(1, 24 * 3600).default(15 * 60),
    VIGIL_LOCKOUT_DURATION_SECONDS: int(1, 7 * 24 * 3600).default(15 * 60),
    VIGIL_HEALTH_INTERVAL_MS: duration.default(5000),
    VIGIL_HEALTH_CHECK_TIMEOUT_MS: int(50, 60_000).default(2000),
    VIGIL_HEALTH_CACHE_MS: duration.default(1000),
    VIGIL_INTROSPECTION: z.enum(['on', 'off', 'admin']).optional(),
    VIGIL_SHUTDOWN_TIMEOUT_MS: int(0, 600_000).default(10_000),
    VIGIL_BODY_LIMIT_BYTES: int(1024, 100 * 1024 * 1024).default(1024 * 1024),
    VIGIL_CORS_ORIGINS: z.string().default(''),
    VIGIL_TRUST_PROXY: z.string().default(''),
    VIGIL_ALLOW_INSECURE_START: bool.default(false),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.VIGIL_JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['VIGIL_JWT_SECRET'], message: 'is required in production' });
    }
    if (env.VIGIL_JWT_SECRET !== undefined && Buffer.byteLength(env.VIGIL_JWT_SECRET) < 32) {
      ctx.addIssue({ code: 'custom', path: ['VIGIL_JWT_SECRET'], message: 'must be at least 32 bytes' });
    }
  });

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
  auth: {
    accessTokenTtlSeconds: number;
    sessionIdleTimeoutSeconds: number;
    sessionMaxLifetimeSeconds: number;
    maxSessionsPerUser: number;
    lockoutThreshold: number;
    lockoutWindowSeconds: number;
    lockoutDurationSeconds: number;
  };
  health: { intervalMs: number; checkTimeoutMs: number; cacheMs: number };
  introspection: 'on' | 'off' | 'admin';
  shutdownTimeoutMs: number;
  bodyLimitBytes: number;
  corsOrigins: string[];
  trustProxy: string[];
  allowInsecureStart: boolean;
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
    auth: {
      accessTokenTtlSeconds: e.VIGIL_ACCESS_TOKEN_TTL_SECONDS,
      sessionIdleTimeoutSeconds: e.VIGIL_SESSION_IDLE_TIMEOUT_SECONDS,
      sessionMaxLifetimeSeconds: e.VIGIL_SESSION_MAX_LIFETIME_SECONDS,
      maxSessionsPerUser: e.VIGIL_MAX_SESSIONS_PER_USER,
      lockoutThreshold: e.VIGIL_LOCKOUT_THRESHOLD,
      lockoutWindowSeconds: e.VIGIL_LOCKOUT_WINDOW_SECONDS,
      lockoutDurationSeconds: e.VIGIL_LOCKOUT_DURATION_SECONDS,
    },
    health: {
      intervalMs: e.VIGIL_HEALTH_INTERVAL_MS,
      checkTimeoutMs: e.VIGIL_HEALTH_CHECK_TIMEOUT_MS,
      cacheMs: e.VIGIL_HEALTH_CACHE_MS,
    },
    introspection: e.VIGIL_INTROSPECTION ?? (production ? 'off' : 'on'),
    shutdownTimeoutMs: e.VIGIL_SHUTDOWN_TIMEOUT_MS,
    bodyLimitBytes: e.VIGIL_BODY_LIMIT_BYTES,
    corsOrigins: list(e.VIGIL_CORS_ORIGINS),
    trustProxy: list(e.VIGIL_TRUST_PROXY),
    allowInsecureStart: e.VIGIL_ALLOW_INSECURE_START,
  };
}
