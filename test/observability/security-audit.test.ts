import { createProgram } from '../../src/cli/index';
import { loadConfig, type Config } from '../../src/config';
import { createLogger } from '../../src/infra/logger';
import { createServer } from '../../src/server';
import { formatSecurityAudit, securityAuditExitCode } from '../../src/cli/commands/security-audit.command';
import {
  assertSecureStart,
  entropyBits,
  InsecureConfigurationError,
  riskLevel,
  runSecurityAudit,
  securityAuditInput,
  SECURITY_CHECKS,
  type SecurityCheckResult,
} from '../../src/services/security/security-audit';

const STRONG_SECRET = 'k7Q2vX9pLm4Rt8Wz1Nc6Hy3Bd5Fg0Js2Ue7Ka9Po4Ti6';

/** A production configuration that passes every check. */
const SAFE_PRODUCTION: Record<string, string> = {
  NODE_ENV: 'production',
  VIGIL_JWT_SECRET: STRONG_SECRET,
  DATABASE_URL: 'postgresql://vigil:Zr8-qLp2-Xv7m-Nd4w@db.internal.example.net:5432/vigil?sslmode=require',
  REDIS_URL: 'rediss://:Tq9-Lm2x-Pv8k@cache.internal.example.net:6380',
  VIGIL_CORS_ORIGINS: 'https://console.example.net',
  LOG_LEVEL: 'info',
  VIGIL_RATE_LIMIT_ENABLED: 'true',
  VIGIL_RATE_LIMIT_ANONYMOUS: '60',
  VIGIL_RATE_LIMIT_USER: '300',
  VIGIL_AUDIT_RETENTION_DAYS: '365',
  VIGIL_INTROSPECTION: 'off',
  VIGIL_METRICS_TOKEN: 'metrics-token-Hq72-Lp9x-Zm4v',
};

type Override = Record<string, string> | ((config: Config) => Config);

function audit(overrides: Override = {}) {
  const config =
    typeof overrides === 'function' ? overrides(loadConfig(SAFE_PRODUCTION)) : loadConfig({ ...SAFE_PRODUCTION, ...overrides });
  return runSecurityAudit(securityAuditInput(config));
}

function check(name: string, overrides: Override = {}): SecurityCheckResult {
  const found = audit(overrides).checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check named ${name}`);
  return found;
}

describe('the security audit', () => {
  it('passes every check for a hardened production configuration, with risk LOW and score 0', () => {
    const report = audit();
    expect(report.checks.filter((c) => c.status !== 'PASS')).toEqual([]);
    expect(report.checks).toHaveLength(SECURITY_CHECKS.length);
    expect(report.riskScore).toBe(0);
    expect(report.riskLevel).toBe('LOW');
  });

  const cases: { name: string; failing: Override; status: 'FAIL' | 'WARN'; message: RegExp }[] = [
    // The configuration schema already refuses a short key; the audit also judges one that bypassed it.
    { name: 'signing-key-length', failing: (c) => ({ ...c, jwtSecret: 'short-Key-9' }), status: 'FAIL', message: /11 bytes/ },
    { name: 'signing-key-strength', failing: { VIGIL_JWT_SECRET: 'my-secret-signing-key-for-vigil-prod-01' }, status: 'FAIL', message: /guessable word/ },
    { name: 'database-password', failing: { DATABASE_URL: 'postgresql://vigil:postgres@db.internal.example.net/vigil?sslmode=require' }, status: 'FAIL', message: /default or well-known/ },
    { name: 'database-host', failing: { DATABASE_URL: 'postgresql://vigil:Zr8-qLp2-Xv7m-Nd4w@localhost:5432/vigil?sslmode=require' }, status: 'FAIL', message: /localhost/ },
    { name: 'database-tls', failing: { DATABASE_URL: 'postgresql://vigil:Zr8-qLp2-Xv7m-Nd4w@db.internal.example.net/vigil' }, status: 'FAIL', message: /sslmode=require/ },
    { name: 'redis-tls', failing: { REDIS_URL: 'redis://cache.internal.example.net:6379' }, status: 'FAIL', message: /rediss:\/\// },
    { name: 'cors-origins', failing: { VIGIL_CORS_ORIGINS: '*' }, status: 'FAIL', message: /wildcard/ },
    { name: 'rate-limit', failing: { VIGIL_RATE_LIMIT_ENABLED: 'false' }, status: 'FAIL', message: /disabled/ },
    { name: 'log-level', failing: { LOG_LEVEL: 'debug' }, status: 'FAIL', message: /LOG_LEVEL=debug/ },
    { name: 'audit-retention', failing: { VIGIL_AUDIT_RETENTION_DAYS: '0' }, status: 'WARN', message: /kept for ever/ },
    { name: 'introspection', failing: { VIGIL_INTROSPECTION: 'on' }, status: 'FAIL', message: /production/ },
    { name: 'metrics-token', failing: { VIGIL_METRICS_TOKEN: '' }, status: 'WARN', message: /VIGIL_METRICS_TOKEN/ },
  ];

  it('has a passing and a failing case for every check', () => {
    expect(cases.map((c) => c.name).sort()).toEqual(audit().checks.map((c) => c.name).sort());
  });

  describe.each(cases)('$name', ({ name, failing, status, message }) => {
    it('passes with the hardened configuration', () => {
      expect(check(name).status).toBe('PASS');
    });
    it(`reports ${status} for a weak configuration, saying why`, () => {
      const result = check(name, failing);
      expect(result.status).toBe(status);
      expect(result.message).toMatch(message);
    });
  });

  it('signing-key-length fails for a missing key in production (the schema refuses it earlier)', () => {
    const config = loadConfig(SAFE_PRODUCTION);
    const report = runSecurityAudit({ ...securityAuditInput(config), config: { ...config, jwtSecret: undefined } });
    expect(report.checks.find((c) => c.name === 'signing-key-length')).toMatchObject({ status: 'FAIL', message: expect.stringMatching(/VIGIL_JWT_SECRET/) });
  });

  it('signing-key-strength warns about a low-entropy key and fails a repeated pattern', () => {
    expect(check('signing-key-strength', { VIGIL_JWT_SECRET: 'abababababababababababababababababab' }).status).toBe('FAIL');
    expect(check('signing-key-strength', { VIGIL_JWT_SECRET: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaabbbbbbbbcd' }).status).toBe('WARN');
    expect(entropyBits(STRONG_SECRET)).toBeGreaterThan(128);
  });

  it('rate-limit warns when the general limits reach 1000 requests per minute', () => {
    const result = check('rate-limit', { VIGIL_RATE_LIMIT_USER: '1000' });
    expect(result.status).toBe('WARN');
    expect(result.message).toMatch(/1000\/min/);
  });

  it('cors-origins fails a localhost origin in production and accepts it in development', () => {
    expect(check('cors-origins', { VIGIL_CORS_ORIGINS: 'http://localhost:3000' }).status).toBe('FAIL');
    expect(check('cors-origins', { NODE_ENV: 'development', VIGIL_CORS_ORIGINS: 'http://localhost:3000' }).status).toBe('PASS');
  });

  it('database-password only warns outside production', () => {
    expect(check('database-password', { NODE_ENV: 'development', DATABASE_URL: 'postgresql://postgres@127.0.0.1/vigil' }).status).toBe('WARN');
  });

  it('scores (failures*10 + warnings*5) / total_checks * 10 and maps the levels', () => {
    const report = audit({ VIGIL_METRICS_TOKEN: '', VIGIL_AUDIT_RETENTION_DAYS: '0', LOG_LEVEL: 'debug' });
    const total = report.checks.length;
    expect(report.riskScore).toBeCloseTo(((1 * 10 + 2 * 5) / total) * 10, 2);
    expect([riskLevel(0), riskLevel(1.99), riskLevel(2), riskLevel(4.99), riskLevel(5), riskLevel(7.99), riskLevel(8), riskLevel(100)]).toEqual([
      'LOW',
      'LOW',
      'MEDIUM',
      'MEDIUM',
      'HIGH',
      'HIGH',
      'CRITICAL',
      'CRITICAL',
    ]);
  });

  it('refuses a CRITICAL production start unless VIGIL_ALLOW_INSECURE_START=true', () => {
    const insecure = { VIGIL_CORS_ORIGINS: '*', LOG_LEVEL: 'debug', VIGIL_INTROSPECTION: 'on' };
    expect(() => assertSecureStart(loadConfig({ ...SAFE_PRODUCTION, ...insecure }))).toThrow(InsecureConfigurationError);
    expect(() => assertSecureStart(loadConfig({ ...SAFE_PRODUCTION, ...insecure }))).toThrow(/cors-origins/);
    expect(assertSecureStart(loadConfig({ ...SAFE_PRODUCTION, ...insecure, VIGIL_ALLOW_INSECURE_START: 'true' })).riskLevel).toBe('CRITICAL');
    expect(assertSecureStart(loadConfig({ ...SAFE_PRODUCTION, ...insecure, NODE_ENV: 'development' })).riskLevel).not.toBe('LOW');
  });

  it('gives the CLI exit code 1 for HIGH or CRITICAL and 0 otherwise, and prints every check', () => {
    // With twelve checks one failure scores 10/12*10 = 8.33: CRITICAL.
    const bad = audit({ VIGIL_CORS_ORIGINS: '*' });
    expect(bad.riskLevel).toBe('CRITICAL');
    expect(securityAuditExitCode(bad)).toBe(1);
    expect(securityAuditExitCode({ ...bad, riskScore: 6, riskLevel: 'HIGH' })).toBe(1);
    const medium = audit({ VIGIL_METRICS_TOKEN: '' });
    expect(medium.riskLevel).toBe('MEDIUM');
    expect(securityAuditExitCode(medium)).toBe(0);
    expect(securityAuditExitCode(audit())).toBe(0);
    const text = formatSecurityAudit(bad);
    expect(text).toMatch(/^risk: CRITICAL/);
    expect(text).toMatch(/FAIL\s+cors-origins/);
  });
});

describe('the security audit at startup and on the command line', () => {
  it('createServer refuses a CRITICAL production configuration before touching the database', async () => {
    const config = loadConfig({ ...SAFE_PRODUCTION, DATABASE_URL: 'postgresql://vigil:postgres@127.0.0.1:1/vigil', PORT: '0' });
    await expect(createServer(config, { logger: createLogger('silent') })).rejects.toThrow(InsecureConfigurationError);
  });

  it('`vigil security-audit --json` prints the report and exits 1 for a CRITICAL configuration, 0 for a safe one', async () => {
    // In process: the command reads the environment like the real CLI does.
    const saved = { ...process.env };
    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    const runCli = async (env: Record<string, string>) => {
      for (const key of Object.keys(process.env)) if (key.startsWith('VIGIL_') || key === 'DATABASE_URL' || key === 'REDIS_URL') delete process.env[key];
      Object.assign(process.env, env);
      printed.length = 0;
      process.exitCode = undefined;
      await createProgram().parseAsync(['node', 'vigil', 'security-audit', '--json']);
      const code = process.exitCode;
      process.exitCode = undefined;
      return { code, report: JSON.parse(printed.join('\n')) as unknown };
    };
    try {
      const safe = await runCli(SAFE_PRODUCTION);
      expect(safe.code).toBe(0);
      expect(safe.report).toMatchObject({ riskLevel: 'LOW', riskScore: 0 });
      const failed = await runCli({ ...SAFE_PRODUCTION, VIGIL_CORS_ORIGINS: '*' });
      expect(failed.code).toBe(1);
      expect(failed.report).toMatchObject({
        riskLevel: 'CRITICAL',
        checks: expect.arrayContaining([expect.objectContaining({ name: 'cors-origins', status: 'FAIL' })]),
      });
    } finally {
      log.mockRestore();
      process.env = saved;
      process.exitCode = undefined;
    }
  });
});
