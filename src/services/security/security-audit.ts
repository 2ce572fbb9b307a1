import type { Config } from '../../config';

/** PASS, WARN or FAIL, as `SecurityCheck.status` shows it. */
export type SecurityCheckStatus = 'PASS' | 'WARN' | 'FAIL';

export type SecurityRiskLevel = 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';

export interface SecurityCheckResult {
  name: string;
  status: SecurityCheckStatus;
  message: string;
}

export interface SecurityAuditReport {
  /** `(failures*10 + warnings*5) / total_checks * 10`, two decimals. */
  riskScore: number;
  riskLevel: SecurityRiskLevel;
  checks: SecurityCheckResult[];
}

/**
 * What the audit looks at: the running configuration plus the facts configuration alone does not
 * say. The audit is a pure function of it, so every check can be tested with a made-up input.
 */
export interface SecurityAuditInput {
  config: Config;
  /** How many days audit entries are kept; null when they are kept for ever (`VIGIL_AUDIT_RETENTION_DAYS=0`). */
  auditRetentionDays: number | null;
}

/** The audit's input for a running configuration. */
export function securityAuditInput(config: Config): SecurityAuditInput {
  const days = config.audit.retentionDays;
  return { config, auditRetentionDays: days > 0 ? days : null };
}

const WEAK_WORDS = ['secret', 'password', 'changeme', 'change-me', 'default', 'example', 'vigil', 'admin', 'qwerty', '123456', 'letmein'];
const WEAK_DB_PASSWORDS = new Set(['', 'postgres', 'password', 'admin', 'root', 'secret', 'changeme', 'vigil', '123456', 'pass', 'test']);
const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0']);
const MIN_SECRET_BYTES = 32;
const MIN_SECRET_ENTROPY_BITS = 128;
const MIN_DB_PASSWORD_LENGTH = 12;
/** Requests per minute above which a general rate limit no longer protects much. */
const RATE_LIMIT_CEILING_PER_MINUTE = 1000;

const pass = (name: string, message: string): SecurityCheckResult => ({ name, status: 'PASS', message });
const warn = (name: string, message: string): SecurityCheckResult => ({ name, status: 'WARN', message });
const fail = (name: string, message: string): SecurityCheckResult => ({ name, status: 'FAIL', message });

/** Shannon entropy of a string times its length: a rough upper bound of the guessing work. */
export function entropyBits(value: string): number {
  if (!value) return 0;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    perChar -= p * Math.log2(p);
  }
  return perChar * [...value].length;
}

function databaseUrl(config: Config): URL | null {
  if (!config.databaseUrl) return null;
  try {
    return new URL(config.databaseUrl);
  } catch {
    return null;
  }
}

function signingKeyLength({ config }: SecurityAuditInput): SecurityCheckResult {
  const name = 'signing-key-length';
  if (!config.jwtSecret) {
    return config.env === 'production'
      ? fail(name, 'VIGIL_JWT_SECRET is not set; production needs a configured signing key')
      : pass(name, 'a random signing key is generated under VIGIL_DATA_DIR (outside production)');
  }
  const bytes = Buffer.byteLength(config.jwtSecret);
  return bytes >= MIN_SECRET_BYTES
    ? pass(name, `the signing key is ${bytes} bytes (at least ${MIN_SECRET_BYTES})`)
    : fail(name, `the signing key is ${bytes} bytes; use at least ${MIN_SECRET_BYTES} random bytes`);
}

function signingKeyStrength({ config }: SecurityAuditInput): SecurityCheckResult {
  const name = 'signing-key-strength';
  const secret = config.jwtSecret;
  if (!secret) return pass(name, config.env === 'production' ? 'no signing key to judge (see signing-key-length)' : 'the generated key is random');
  const lower = secret.toLowerCase();
  const word = WEAK_WORDS.find((w) => lower.includes(w));
  if (word) return fail(name, `the signing key contains the guessable word "${word}"; generate one with \`openssl rand -base64 48\``);
  if (/^(.{1,8}?)\1+$/.test(secret)) return fail(name, 'the signing key is a short pattern repeated; generate a random one');
  const bits = Math.round(entropyBits(secret));
  if (bits < MIN_SECRET_ENTROPY_BITS) return warn(name, `the signing key carries about ${bits} bits of entropy; aim for ${MIN_SECRET_ENTROPY_BITS}+`);
  return pass(name, `the signing key carries about ${bits} bits of entropy`);
}

function databasePassword({ config }: SecurityAuditInput): SecurityCheckResult {
  const name = 'database-password';
  const url = databaseUrl(config);
  if (!url) {
    return config.env === 'production'
      ? fail(name, 'no DATABASE_URL: the embedded database is not meant for production')
      : pass(name, 'embedded database, reachable on loopback only');
  }
  const password = decodeURIComponent(url.password);
  const user = decodeURIComponent(url.username);
  const production = config.env === 'production';
  const weak = (message: string) => (production ? fail(name, message) : warn(name, `${message} (acceptable outside production)`));
  if (!password) return weak('the database URL has no password');
  if (WEAK_DB_PASSWORDS.has(password.toLowerCase()) || password === user) return weak('the database password is a default or well-known one');
  if (password.length < MIN_DB_PASSWORD_LENGTH) return weak(`the database password is shorter than ${MIN_DB_PASSWORD_LENGTH} characters`);
  return pass(name, 'the database password is not a default one and is long enough');
}

function databaseHost({ config }: SecurityAuditInput): SecurityCheckResult {
  const name = 'database-host';
  if (config.env !== 'production') return pass(name, 'a local database is fine outside production');
  const url = databaseUrl(config);
  if (!url) return fail(name, 'production runs on the embedded database; set DATABASE_URL to a managed server');
  if (LOCAL_HOSTS.has(url.hostname)) return fail(name, `DATABASE_URL points at ${url.hostname} in production`);
  return pass(name, `the database is ${url.hostname}`);
}

function databaseTls({ config }: SecurityAuditInput): SecurityCheckResult {
  const name = 'database-tls';
  const url = databaseUrl(config);
  const mode = url?.searchParams.get('sslmode') ?? null;
  const encrypted = mode === 'require' || mode === 'verify-ca' || mode === 'verify-full';
  if (encrypted) return pass(name, `the database connection uses sslmode=${mode}`);
  if (config.env !== 'production') return pass(name, 'TLS to the database is not required outside production');
  return fail(name, `the database connection does not require TLS (sslmode=${mode ?? 'unset'}); add ?sslmode=require`);
}

function redisTls({ config }: SecurityAuditInput): SecurityCheckResult {
  const name = 'redis-tls';
  if (!config.redisUrl) return pass(name, 'Redis is not configured');
  if (config.redisUrl.startsWith('rediss://')) return pass(name, 'Redis is reached over TLS (rediss://)');
  if (config.env !== 'production') return pass(name, 'TLS to Redis is not required outside production');
  return fail(name, 'REDIS_URL uses redis:// in production; use rediss:// (TLS)');
}

function corsOrigins({ config }: SecurityAuditInput): SecurityCheckResult {
  const name = 'cors-origins';
  const origins = config.corsOrigins;
  const wildcard = origins.filter((o) => o.includes('*'));
  const local = origins.filter((o) => {
    try {
      return LOCAL_HOSTS.has(new URL(o).hostname);
    } catch {
      return false;
    }
  });
  if (config.env === 'production') {
    if (wildcard.length) return fail(name, `wildcard CORS origin in production: ${wildcard.join(', ')}`);
    if (local.length) return fail(name, `localhost CORS origin in production: ${local.join(', ')}`);
  } else if (wildcard.length) {
    return warn(name, `wildcard CORS origin: ${wildcard.join(', ')}`);
  }
  return pass(name, origins.length ? `CORS allows ${origins.join(', ')}` : 'no cross-origin browser access is allowed');
}

function rateLimit({ config }: SecurityAuditInput): SecurityCheckResult {
  const name = 'rate-limit';
  const limits = config.protection.rateLimit;
  if (!limits.enabled) return fail(name, 'rate limiting is disabled (VIGIL_RATE_LIMIT_ENABLED=false)');
  const perMinute = (n: number) => Math.round((n * 60) / limits.windowSeconds);
  const anonymous = perMinute(limits.anonymous);
  const user = perMinute(limits.user);
  const highest = Math.max(anonymous, user);
  if (highest >= RATE_LIMIT_CEILING_PER_MINUTE) {
    return warn(name, `rate limits allow ${anonymous}/min anonymous and ${user}/min per user; keep them below ${RATE_LIMIT_CEILING_PER_MINUTE}/min`);
  }
  return pass(name, `rate limits: ${anonymous}/min anonymous, ${user}/min per user`);
}

function logLevel({ config }: SecurityAuditInput): SecurityCheckResult {
  const name = 'log-level';
  const verbose = config.logLevel === 'debug' || config.logLevel === 'trace';
  if (verbose && config.env === 'production') return fail(name, `LOG_LEVEL=${config.logLevel} in production logs statement details; use info`);
  return pass(name, `LOG_LEVEL=${config.logLevel}`);
}

function auditRetention({ auditRetentionDays }: SecurityAuditInput): SecurityCheckResult {
  const name = 'audit-retention';
  if (auditRetentionDays === null) return warn(name, 'VIGIL_AUDIT_RETENTION_DAYS=0: audit entries are kept for ever');
  return pass(name, `audit entries are kept for ${auditRetentionDays} days`);
}

function introspection({ config }: SecurityAuditInput): SecurityCheckResult {
  const name = 'introspection';
  if (config.introspection === 'off') return pass(name, 'introspection is off');
  if (config.introspection === 'admin') return pass(name, 'introspection is limited to administrators');
  if (config.env === 'production') return fail(name, 'introspection is open to everyone in production; set VIGIL_INTROSPECTION=off or admin');
  return pass(name, 'introspection is on (outside production)');
}

function metricsToken({ config }: SecurityAuditInput): SecurityCheckResult {
  const name = 'metrics-token';
  if (config.observability.metricsToken) return pass(name, '/metrics needs a bearer token');
  if (config.env === 'production') return warn(name, '/metrics is open to anyone who reaches the port; set VIGIL_METRICS_TOKEN');
  return pass(name, '/metrics is open (outside production)');
}

/** Every check, in report order. */
export const SECURITY_CHECKS: readonly ((input: SecurityAuditInput) => SecurityCheckResult)[] = [
  signingKeyLength,
  signingKeyStrength,
  databasePassword,
  databaseHost,
  databaseTls,
  redisTls,
  corsOrigins,
  rateLimit,
  logLevel,
  auditRetention,
  introspection,
  metricsToken,
];

/** The level of a risk score: LOW < 2, MEDIUM 2–5, HIGH 5–8, CRITICAL ≥ 8. */
export function riskLevel(score: number): SecurityRiskLevel {
  if (score >= 8) return 'CRITICAL';
  if (score >= 5) return 'HIGH';
  if (score >= 2) return 'MEDIUM';
  return 'LOW';
}

/** Runs every check and scores the result: `(failures*10 + warnings*5) / total_checks * 10`. */
export function runSecurityAudit(input: SecurityAuditInput): SecurityAuditReport {
  const checks = SECURITY_CHECKS.map((check) => check(input));
  const failures = checks.filter((c) => c.status === 'FAIL').length;
  const warnings = checks.filter((c) => c.status === 'WARN').length;
  const riskScore = Math.round(((failures * 10 + warnings * 5) / checks.length) * 10 * 100) / 100;
  return { riskScore, riskLevel: riskLevel(riskScore), checks };
}

/** Raised at startup when production would run on a CRITICAL configuration without the override. */
export class InsecureConfigurationError extends Error {
  override name = 'InsecureConfigurationError';
}

/**
 * Refuses a production start on a CRITICAL configuration unless `VIGIL_ALLOW_INSECURE_START=true`.
 * Returns the report so the caller can log it.
 */
export function assertSecureStart(config: Config): SecurityAuditReport {
  const report = runSecurityAudit(securityAuditInput(config));
  if (config.env === 'production' && report.riskLevel === 'CRITICAL' && !config.allowInsecureStart) {
    const failed = report.checks.filter((c) => c.status === 'FAIL').map((c) => `${c.name}: ${c.message}`);
    throw new InsecureConfigurationError(
      `the security audit rates this configuration CRITICAL (score ${report.riskScore}); fix: ${failed.join('; ')} — or set VIGIL_ALLOW_INSECURE_START=true`,
    );
  }
  return report;
}

/** Runs {@link assertSecureStart} and logs a configuration that is not LOW risk. */
export function checkStartupSecurity(config: Config, logger: { warn(obj: object, msg: string): void }): void {
  const report = assertSecureStart(config);
  if (report.riskLevel !== 'LOW') {
    const findings = report.checks.filter((c) => c.status !== 'PASS');
    logger.warn({ riskScore: report.riskScore, riskLevel: report.riskLevel, findings }, 'security audit of the configuration');
  }
}
