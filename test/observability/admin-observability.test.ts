import { Role } from '../../src/permissions/roles';
import { CacheStatsDocument, DbStatsDocument, HealthDocument, SecurityAuditDocument } from '../generated/graphql';
import { tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

describe('observability for administrators', () => {
  let server: TestServer;
  let admin: string;
  let viewer: string;
  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_SLOW_QUERY_MS: '1', VIGIL_HEALTH_CACHE_MS: '60000' } });
    [admin, viewer] = await Promise.all([tokenFor(server, Role.ADMIN), tokenFor(server, Role.VIEWER)]);
  });
  afterAll(() => server.close());

  describe.each([
    ['securityAudit', SecurityAuditDocument],
    ['cacheStats', CacheStatsDocument],
    ['dbStats', DbStatsDocument],
  ] as const)('%s', (field, document) => {
    it('is UNAUTHENTICATED without a token and FORBIDDEN for a VIEWER', async () => {
      const anonymous = await graphql(server.url, document);
      expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(anonymous.errors?.[0]?.path).toEqual([field]);
      const denied = await graphql(server.url, document, undefined, { token: viewer });
      expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });
  });

  it('securityAudit scores the running configuration', async () => {
    const res = await graphql(server.url, SecurityAuditDocument, undefined, { token: admin });
    expect(res.errors).toBeUndefined();
    const audit = res.data!.securityAudit!;
    expect(audit.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['signing-key-length', 'database-tls', 'rate-limit', 'introspection']));
    for (const check of audit.checks) expect(['PASS', 'WARN', 'FAIL']).toContain(check.status);
    const failures = audit.checks.filter((c) => c.status === 'FAIL').length;
    const warnings = audit.checks.filter((c) => c.status === 'WARN').length;
    expect(audit.riskScore).toBeCloseTo(((failures * 10 + warnings * 5) / audit.checks.length) * 10, 2);
    expect(['LOW', 'MEDIUM', 'HIGH', 'CRITICAL']).toContain(audit.riskLevel);
  });

  it('dbStats reports connections, sizes, the largest tables, slow statements and the cache hit ratio', async () => {
    const res = await graphql(server.url, DbStatsDocument, undefined, { token: admin });
    expect(res.errors).toBeUndefined();
    const stats = res.data!.dbStats!;
    expect(stats.databaseName).toBe(server.database.name);
    expect(stats.sizeBytes).toBeGreaterThan(0);
    expect(stats.connections.reduce((n, c) => n + c.count, 0)).toBeGreaterThanOrEqual(1);
    expect(stats.largestTables.length).toBeGreaterThan(0);
    for (const table of stats.largestTables) expect(table.name).toMatch(/^public\.\w+$/);
    expect(stats.largestTables.map((t) => t.name)).toContain('public.user');
    const sizes = stats.largestTables.map((t) => t.totalBytes);
    expect(sizes).toEqual([...sizes].sort((a, b) => b - a));
    // PostgreSQL flushes a backend's block counters about once a second: a brand-new database may
    // not have any yet, and then the ratio is null rather than a made-up number.
    const ratio = stats.cacheHitRatioPercent;
    expect(ratio === null || (ratio! > 0 && ratio! <= 100)).toBe(true);
    // With a 1 ms threshold the sign-ins above left statements behind; bound values are never kept.
    expect(stats.slowStatementThresholdMs).toBe(1);
    expect(stats.slowStatements.length).toBeGreaterThan(0);
    expect(stats.slowStatements[0]!.count).toBeGreaterThanOrEqual(1);
    for (const statement of stats.slowStatements) expect(statement.statement).not.toMatch(/@test\.vigil|\$argon2id/);
    expect(stats.pool).toMatchObject({ max: server.config.databasePoolMax });
  });

  it('cacheStats counts the hits of repeated dbStats reads', async () => {
    // Counters are BigInt: decimal text on the wire.
    const counters = (stats: { hits: string; misses: string }) => ({ hits: Number(stats.hits), misses: Number(stats.misses) });
    const before = counters((await graphql(server.url, CacheStatsDocument, undefined, { token: admin })).data!.cacheStats!);
    await graphql(server.url, DbStatsDocument, undefined, { token: admin });
    await graphql(server.url, DbStatsDocument, undefined, { token: admin });
    const stats = (await graphql(server.url, CacheStatsDocument, undefined, { token: admin })).data!.cacheStats!;
    expect(typeof stats.hits).toBe('string');
    const after = counters(stats);
    expect(stats.enabled).toBe(true);
    expect(stats.redisConnected).toBe(true);
    expect(after.hits).toBeGreaterThanOrEqual(before.hits + 1);
    expect(after.hits + after.misses).toBeGreaterThanOrEqual(before.hits + before.misses + 2);
    expect(stats.hitRatePercent).toBeCloseTo((after.hits / (after.hits + after.misses)) * 100, 1);
  });

  it('health shows components and details to ADMIN_ACCESS only', async () => {
    const asAdmin = await graphql(server.url, HealthDocument, undefined, { token: admin });
    const names = asAdmin.data!.health.components!.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['database', 'redis', 'eventLoop', 'memory', 'disk', 'auditChain', 'backups']));
    expect(asAdmin.data!.health.components!.find((c) => c.name === 'database')!.detail).toMatch(/pool/);
    const asViewer = await graphql(server.url, HealthDocument, undefined, { token: viewer });
    expect(asViewer.data!.health.components).toBeNull();
  });

  it('GET /health answers application/health+json: status only for anonymous callers, checks for admins', async () => {
    const url = server.url.replace('/graphql', '/health');
    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/health\+json/);
    const plain = (await anonymous.json()) as Record<string, unknown>;
    expect(plain).toMatchObject({ status: 'pass', serviceId: 'vigil' });
    expect(plain.checks).toBeUndefined();

    const asViewer = (await (await fetch(url, { headers: { authorization: `Bearer ${viewer}` } })).json()) as Record<string, unknown>;
    expect(asViewer.checks).toBeUndefined();
    const invalid = await fetch(url, { headers: { authorization: 'Bearer not-a-token' } });
    expect(invalid.status).toBe(200);
    expect(((await invalid.json()) as Record<string, unknown>).checks).toBeUndefined();

    const full = (await (await fetch(url, { headers: { authorization: `Bearer ${admin}` } })).json()) as {
      status: string;
      checks: Record<string, { componentId: string; status: string; observedValue?: number; observedUnit?: string; time: string; output?: string }[]>;
    };
    expect(full.status).toBe('pass');
    expect(Object.keys(full.checks)).toEqual(
      expect.arrayContaining(['database:responseTime', 'redis:responseTime', 'eventLoop:delay', 'memory:utilization', 'disk:free', 'auditChain:verificationAge', 'backups:age']),
    );
    const database = full.checks['database:responseTime']![0]!;
    expect(database).toMatchObject({ componentId: 'database', status: 'pass', observedUnit: 'ms', output: expect.stringMatching(/pool/) });
    expect(database.observedValue).toEqual(expect.any(Number));
    expect(Number.isNaN(Date.parse(database.time))).toBe(false);
  });
});
