import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { createTestDatabase, testRedisUrl, type TestDatabase } from '../helpers/database';
import { TEST_JWT_SECRET } from '../helpers/server';
import { startGatewayProcess, type GatewayProcess } from '../helpers/gateway-process';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver';

const ADMIN = { email: 'otel-admin@vigil.example', password: 'otel-admin-password-1' };
/** A variable value that must never appear in an exported span. */
const SECRET = `do-not-export-${randomBytes(6).toString('hex')}`;

const newTraceId = () => randomBytes(16).toString('hex');
const newSpanId = () => randomBytes(8).toString('hex');

interface Answer {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

async function post(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  return (await res.json()) as Answer;
}

/** Polls the receiver until `ready(spans of the trace)` holds. */
async function traceOf(receiver: OtlpReceiver, traceId: string, ready: (spans: ReceivedSpan[]) => boolean, timeoutMs = 20_000): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    if (ready(spans)) return spans;
    if (Date.now() > deadline) throw new Error(`trace ${traceId} incomplete: ${JSON.stringify(spans.map((s) => s.name))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The spans of a trace form one tree under `root` (every parent is in the trace, or is `root`'s incoming parent). */
function expectOneTree(spans: ReceivedSpan[], incomingParent: string | null) {
  const ids = new Set(spans.map((s) => s.spanId));
  const roots = spans.filter((s) => !ids.has(s.parentSpanId));
  expect(roots).toHaveLength(1);
  expect(roots[0]!.parentSpanId).toBe(incomingParent ?? '');
  return roots[0]!;
}

const isSql = (s: ReceivedSpan) => s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql';
const isRedis = (s: ReceivedSpan) => s.attributes['db.system'] === 'redis' || s.attributes['db.system.name'] === 'redis';

describe.each([
  ['http/protobuf', 'application/x-protobuf'],
  ['http/json', 'application/json'],
])('OpenTelemetry traces over OTLP %s to a real receiver', (protocol, contentType) => {
  let receiver: OtlpReceiver;
  let database: TestDatabase;
  let gateway: GatewayProcess;
  let dataDir: string;
  let token: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    database = await createTestDatabase();
    dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-otel-'));
    gateway = await startGatewayProcess({
      env: {
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      DATABASE_URL: database.url,
      REDIS_URL: testRedisUrl(),
      VIGIL_REDIS_PREFIX: `otel:${randomBytes(4).toString('hex')}:`,
      VIGIL_DATA_DIR: dataDir,
      VIGIL_JWT_SECRET: TEST_JWT_SECRET,
      VIGIL_ADMIN_EMAIL: ADMIN.email,
      VIGIL_ADMIN_PASSWORD: ADMIN.password,
      VIGIL_BACKUP_SCHEDULE: 'off',
      VIGIL_BACKUP_DRILL_SCHEDULE: 'off',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_SERVICE_NAME: 'vigil-under-test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
    const login = await post(gateway.url, 'mutation SignIn($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', { e: ADMIN.email, p: ADMIN.password });
    token = (login.data as { login: { accessToken: string } }).login.accessToken;
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await receiver?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('continues an incoming traceparent: one tree of spans under the HTTP span, with SQL and Redis children and the operation', async () => {
    const traceId = newTraceId();
    const parent = newSpanId();
    const res = await post(
      gateway.url,
      'query Cases($search: String) { investigations(first: 5, filter: { search: $search }) { totalCount } me { email } }',
      { search: SECRET },
      { authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${parent}-01` },
    );
    expect(res.errors).toBeUndefined();
    const spans = await traceOf(receiver, traceId, (s) => s.some((x) => x.kind === 2) && s.some(isSql) && s.some(isRedis) && s.some((x) => x.name.startsWith('graphql.operation')));
    const root = expectOneTree(spans, parent);
    expect(root.kind).toBe(2); // SERVER
    expect(root.resource['service.name']).toBe('vigil-under-test');
    const operation = spans.find((s) => s.name === 'graphql.operation Cases')!;
    expect(operation.attributes).toMatchObject({ 'graphql.operation.name': 'Cases', 'graphql.operation.type': 'query' });
    expect(operation.attributes['graphql.document.hash']).toMatch(/^[0-9a-f]{64}$/);
    // SQL statements run inside the operation (directly or through a service span).
    const underOperation = (s: ReceivedSpan): boolean => {
      const byId = new Map(spans.map((x) => [x.spanId, x]));
      for (let p = byId.get(s.parentSpanId); p; p = byId.get(p.parentSpanId)) if (p === operation) return true;
      return false;
    };
    expect(spans.filter(isSql).some(underOperation)).toBe(true);
    expect(spans.some((s) => s.name === 'InvestigationService.list' || s.attributes['vigil.service'] !== undefined)).toBe(true);
    const sql = spans.find(isSql)!;
    expect(String(sql.attributes['db.statement'] ?? sql.attributes['db.query.text'] ?? '')).not.toBe('');
    expect(receiver.contentTypes).toContain(contentType);
  });

  it('makes one trace per request: a request without traceparent is a trace of its own with one root', async () => {
    const before = new Set(receiver.spans.map((s) => s.traceId));
    const res = await post(gateway.url, 'query Alone { me { email } }', {}, { authorization: `Bearer ${token}` });
    expect(res.errors).toBeUndefined();
    const deadline = Date.now() + 20_000;
    let traceId: string | undefined;
    while (!traceId && Date.now() < deadline) {
      traceId = receiver.spans.find((s) => s.name === 'graphql.operation Alone' && !before.has(s.traceId))?.traceId;
      if (!traceId) await new Promise((r) => setTimeout(r, 50));
    }
    expect(traceId).toBeDefined();
    const spans = await traceOf(receiver, traceId!, (s) => s.some((x) => x.kind === 2));
    expectOneTree(spans, null);
    expect(spans.filter((s) => s.name.startsWith('graphql.operation'))).toHaveLength(1);
  });

  it('continues the traceparent of a websocket connection_init for the connection’s operations', async () => {
    const traceId = newTraceId();
    const parent = newSpanId();
    const client = createClient({
      url: gateway.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${parent}-01` },
      retryAttempts: 0,
    });
    try {
      const result = await new Promise<unknown>((resolve, reject) => {
        let data: unknown;
        client.subscribe(
          { query: 'query OverSocket($search: String) { investigations(first: 1, filter: { search: $search }) { totalCount } }', variables: { search: SECRET } },
          { next: (v) => (data = v), error: reject, complete: () => resolve(data) },
        );
      });
      expect(result).toMatchObject({ data: { investigations: { totalCount: expect.any(Number) } } });
    } finally {
      await client.dispose();
    }
    const spans = await traceOf(receiver, traceId, (s) => s.some((x) => x.name === 'graphql.operation OverSocket') && s.some(isSql));
    const operation = spans.find((s) => s.name === 'graphql.operation OverSocket')!;
    expect(operation.parentSpanId).toBe(parent);
    expect(operation.attributes).toMatchObject({ 'graphql.operation.name': 'OverSocket', 'graphql.operation.type': 'query' });
  });

  it('records a permission denial as a span, and in development the error names its trace', async () => {
    const traceId = newTraceId();
    const res = await post(gateway.url, 'query Denied { auditLogs(first: 1) { totalCount } }', {}, { traceparent: `00-${traceId}-${newSpanId()}-01` });
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.errors?.[0]?.extensions?.traceId).toBe(traceId);
    const spans = await traceOf(receiver, traceId, (s) => s.some((x) => x.name === 'permission.denied'));
    expect(spans.find((s) => s.name === 'permission.denied')!.attributes).toMatchObject({ 'vigil.permission.field': 'Query.auditLogs' });
  });

  it('writes the trace id on the request’s log lines', async () => {
    const traceId = newTraceId();
    await post(gateway.url, 'query Logged { me { email } }', {}, { authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${newSpanId()}-01`, 'x-request-id': `otel-log-${traceId}` });
    const deadline = Date.now() + 10_000;
    let line: Record<string, unknown> | undefined;
    while (!line && Date.now() < deadline) {
      line = gateway
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.requestId === `otel-log-${traceId}` && l.msg === 'graphql operation');
      if (!line) await new Promise((r) => setTimeout(r, 50));
    }
    expect(line).toMatchObject({ trace_id: traceId, span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });

  it('never exports a variable value, in any attribute of any span', async () => {
    // The GET form carries variables in the URL.
    const traceId = newTraceId();
    const params = new URLSearchParams({ query: 'query ByGet($search: String) { investigations(first: 1, filter: { search: $search }) { totalCount } }', variables: JSON.stringify({ search: SECRET }) });
    const res = await fetch(`${gateway.url}?${params}`, {
      headers: { accept: 'application/json', 'apollo-require-preflight': 'true', authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${newSpanId()}-01` },
    });
    expect(res.status).toBe(200);
    await traceOf(receiver, traceId, (s) => s.some((x) => x.kind === 2));
    // MikroORM writes values into the statements it sends: a mutation's input must not follow.
    const writeTrace = newTraceId();
    const created = await post(
      gateway.url,
      'mutation Create($input: CreateInvestigationInput!) { createInvestigation(input: $input) { id } }',
      { input: { title: `Case ${SECRET}`, description: SECRET, tags: [SECRET.slice(0, 40)] } },
      { authorization: `Bearer ${token}`, traceparent: `00-${writeTrace}-${newSpanId()}-01` },
    );
    expect(created.errors).toBeUndefined();
    const writes = await traceOf(receiver, writeTrace, (s) => s.some((x) => x.kind === 2) && s.filter(isSql).length > 2);
    expect(writes.some((s) => /insert/i.test(String(s.attributes['db.query.text'] ?? s.attributes['db.statement'] ?? '')))).toBe(true);
    expect(receiver.spans.length).toBeGreaterThan(10);
    for (const body of receiver.bodies) expect(body.includes(Buffer.from(SECRET))).toBe(false);
    for (const span of receiver.spans) expect(JSON.stringify(span)).not.toContain(SECRET);
  });
});
