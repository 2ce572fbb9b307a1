import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { buildManifest, documentHash } from '../../src/protection/trusted-documents';
import { HealthDocument } from '../generated/graphql';
import { Role } from '../../src/permissions/roles';
import { tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startRedis, type TestRedis } from '../helpers/redis';
import { startTestServer, type TestServer } from '../helpers/server';
import { heapUsed } from './edge-helpers';

interface RawResponse {
  status: number;
  headers: Headers;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] } | null;
  text: string;
}

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  let parsed: RawResponse['body'] = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

const postQuery = (url: string, query: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  post(url, JSON.stringify({ query, ...extra }), headers);

const code = (res: RawResponse) => res.body?.errors?.[0]?.extensions?.code;

/** The health query answers (UP, or DEGRADED while a flood loads the event loop or memory). */
async function healthUp(server: TestServer): Promise<boolean> {
  const res = await graphql(server.url, HealthDocument);
  return res.status === 200 && ['UP', 'DEGRADED'].includes(res.data?.health.status ?? '');
}

async function auditActions(server: TestServer, actions: string[]): Promise<{ action: string; ip: string | null; outcome: string }[]> {
  const rows: { action: string; ip: string | null; outcome: string }[] = await server.orm.em
    .fork()
    .getConnection()
    .execute(`select action, ip, outcome from audit_log where action in (${actions.map(() => '?').join(', ')})`, actions);
  return rows;
}

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 50 && !ok(value); i++) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}


describe('hostile input against a running gateway', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const hostile: [string, () => Promise<void>][] = [
    [
      'a deeply nested document is QUERY_TOO_COMPLEX (depth) before validation',
      async () => {
        const res = await postQuery(server.url, `{ health { ${'a { '.repeat(40)}b${' }'.repeat(40)} } }`);
        expect(res.status).toBe(400);
        // The walk stops at the first level past the limit.
        expect(res.body?.errors?.[0]?.extensions).toEqual(expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', depth: 13, limit: 12 }));
      },
    ],
    [
      'an alias bomb is QUERY_TOO_COMPLEX (aliases), a bigger one by its token count',
      async () => {
        const aliases = Array.from({ length: 200 }, (_, i) => `a${i}: health { status }`).join(' ');
        const res = await postQuery(server.url, `{ ${aliases} }`);
        expect(res.status).toBe(400);
        expect(res.body?.errors?.[0]?.extensions).toEqual(expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', aliases: 31, limit: 30 }));
        const bomb = Array.from({ length: 5000 }, (_, i) => `a${i}: health { status }`).join(' ');
        const big = await postQuery(server.url, `{ ${bomb} }`);
        expect(big.status).toBe(400);
        expect(big.body?.errors?.[0]?.extensions).toEqual(expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', limit: 2500 }));
        expect(big.body?.errors?.[0]?.extensions?.tokens).toBeGreaterThan(2500);
      },
    ],
    [
      'a huge page (first: 100000) is QUERY_TOO_COMPLEX (cost) before any resolver runs',
      async () => {
        const res = await postQuery(server.url, '{ investigations(first: 100000) { edges { node { id title } } } }');
        expect(res.status).toBe(400);
        expect(res.body?.errors?.[0]?.extensions).toEqual(
          // The walk stops at the first figure past the limit: "at least 50001".
          expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', cost: 50001, limit: 50000 }),
        );
        expect(res.body?.data).toBeUndefined();
      },
    ],
    [
      'fragment cycles are GRAPHQL_VALIDATION_FAILED',
      async () => {
        const res = await postQuery(server.url, '{ health { ...A } } fragment A on Health { ...B } fragment B on Health { ...A }');
        expect(res.status).toBe(400);
        expect(code(res)).toBe('GRAPHQL_VALIDATION_FAILED');
      },
    ],
    [
      'a directive flood is QUERY_TOO_COMPLEX (directives)',
      async () => {
        const res = await postQuery(server.url, `{ health ${'@include(if: true) '.repeat(100)}{ status } }`);
        expect(res.status).toBe(400);
        expect(res.body?.errors?.[0]?.extensions).toEqual(expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', directives: 100, limit: 30 }));
      },
    ],
    [
      'too many root fields are QUERY_TOO_COMPLEX (rootFields)',
      async () => {
        const res = await postQuery(server.url, `{ ${'health { status } '.repeat(20)}}`);
        expect(res.status).toBe(400);
        expect(res.body?.errors?.[0]?.extensions).toEqual(expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', rootFields: 16, limit: 15 }));
      },
    ],
    [
      'a 10 MB body is 413 BAD_REQUEST without a stack',
      async () => {
        const res = await postQuery(server.url, `{ health { status } } #${'x'.repeat(10 * 1024 * 1024)}`);
        expect(res.status).toBe(413);
        expect(code(res)).toBe('BAD_REQUEST');
        expect(res.text).not.toMatch(/at .*\.[jt]s:\d+/);
      },
    ],
    [
      'invalid UTF-8 in the document is GRAPHQL_PARSE_FAILED',
      async () => {
        const body = Buffer.concat([Buffer.from('{"query":"{ health { status } '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' }"}')]);
        const res = await post(server.url, body);
        expect(res.status).toBe(400);
        expect(code(res)).toBe('GRAPHQL_PARSE_FAILED');
      },
    ],
    [
      'a wrong content type is 415 BAD_REQUEST',
      async () => {
        const res = await post(server.url, 'query=%7B%20health%20%7B%20status%20%7D%20%7D', { 'content-type': 'application/x-www-form-urlencoded' });
        expect(res.status).toBe(415);
        expect(code(res)).toBe('BAD_REQUEST');
        expect(res.body?.errors?.[0]?.extensions?.requestId).toEqual(expect.any(String));
        const xml = await post(server.url, '<query/>', { 'content-type': 'application/xml' });
        expect(xml.status).toBe(415);
      },
    ],
    [
      'malformed JSON is 400 BAD_REQUEST',
      async () => {
        const res = await post(server.url, '{"query": "{ health { status } }",', { accept: 'application/graphql-response+json' });
        expect(res.status).toBe(400);
        expect(code(res)).toBe('BAD_REQUEST');
        expect(res.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
        expect(res.body?.errors?.[0]?.extensions?.requestId).toEqual(expect.any(String));
      },
    ],
    [
      'variables of the wrong type are 400 BAD_USER_INPUT',
      async () => {
        const res = await postQuery(server.url, 'query ($n: Int) { investigations(first: $n) { totalCount } }', { variables: { n: 'many' } });
        expect(res.status).toBe(400);
        expect(code(res)).toBe('BAD_USER_INPUT');
        const notAMap = await postQuery(server.url, '{ health { status } }', { variables: [1, 2] });
        expect(notAMap.status).toBe(400);
        expect(code(notAMap)).toBe('BAD_REQUEST');
        // Apollo's own request errors leave with the one error shape too.
        expect(notAMap.body?.errors?.[0]?.extensions?.requestId).toEqual(expect.any(String));
        const noQuery = await post(server.url, JSON.stringify({ variables: {} }));
        expect([noQuery.status, code(noQuery)]).toEqual([400, 'BAD_REQUEST']);
        expect(noQuery.body?.errors?.[0]?.extensions?.requestId).toEqual(expect.any(String));
      },
    ],
    [
      'a batched request is refused (batching is off)',
      async () => {
        const res = await post(server.url, JSON.stringify([{ query: '{ health { status } }' }, { query: '{ health { status } }' }]));
        expect(res.status).toBe(400);
        expect(code(res)).toBe('BAD_REQUEST');
        expect(res.body?.errors?.[0]?.extensions?.requestId).toEqual(expect.any(String));
      },
    ],
  ];

  it.each(hostile)('%s', async (_name, run) => {
    await run();
    expect(await healthUp(server)).toBe(true);
  });

  it('keeps answering a health query while all of them arrive at once, and its heap returns near its baseline', async () => {
    for (const [, run] of hostile) await run();
    const baseline = await heapUsed();
    const health: Promise<boolean>[] = [];
    for (let round = 0; round < 3; round++) {
      await Promise.all([...hostile.map(([, run]) => run()), ...Array.from({ length: 5 }, () => healthUp(server).then((up) => health.push(Promise.resolve(up))))]);
    }
    expect(await Promise.all(health)).toEqual(Array(15).fill(true));
    expect(await healthUp(server)).toBe(true);
    // Ten-megabyte bodies went through three times; what stays must be well under one of them.
    expect((await heapUsed()) - baseline).toBeLessThan(8 * 1024 * 1024);
  });

  it('records each refused operation as a security event tied to the caller IP', async () => {
    const rows = await eventually(
      () => auditActions(server, ['QUERY_TOO_COMPLEX']),
      (r) => r.length > 0,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]).toEqual({ action: 'QUERY_TOO_COMPLEX', ip: '127.0.0.1', outcome: 'DENIED' });
  });

  it('sends the security headers on every response, with a CSP that lets the built-in GraphiQL page work', async () => {
    const res = await graphql(server.url, HealthDocument);
    const probe = await fetch(server.url.replace('/graphql', '/healthz'));
    for (const headers of [res.headers, probe.headers]) {
      expect(headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect(headers.get('x-content-type-options')).toBe('nosniff');
      expect(headers.get('x-frame-options')).toBe('DENY');
      expect(headers.get('referrer-policy')).toBe('no-referrer');
      expect(headers.get('permissions-policy')).toContain('camera=()');
      const csp = headers.get('content-security-policy')!;
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("connect-src 'self' ws: wss:");
      expect(csp).toContain("frame-ancestors 'none'");
    }
  });

  it('refuses a GET without a CSRF-safe header and a mutation over GET', async () => {
    const get = await fetch(`${server.url}?query=${encodeURIComponent('{ health { status } }')}`);
    expect(get.status).toBe(400);
    expect(((await get.json()) as { errors: { extensions: unknown }[] }).errors[0]!.extensions).toEqual(expect.objectContaining({ code: 'BAD_REQUEST', requestId: expect.any(String) }));
    // A bearer token cannot be sent cross-site without a preflight: such a GET is accepted.
    const token = await tokenFor(server, Role.VIEWER);
    const withToken = await fetch(`${server.url}?query=${encodeURIComponent('{ health { status } }')}`, { headers: { authorization: `Bearer ${token}` } });
    expect(withToken.status).toBe(200);
    const mutation = await fetch(`${server.url}?query=${encodeURIComponent('mutation { logout }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(mutation.status).toBe(405);
  });

  it('serves automatic persisted queries through Redis: unknown hash, registration, then the hash alone', async () => {
    const query = `{ health { status checkedAt } } # apq ${Date.now()}`;
    const sha256Hash = documentHash(query);
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    const miss = await post(server.url, JSON.stringify({ extensions }));
    expect(code(miss)).toBe('PERSISTED_QUERY_NOT_FOUND');
    const register = await post(server.url, JSON.stringify({ query, extensions }));
    expect(register.status).toBe(200);
    const hit = await eventually(
      () => post(server.url, JSON.stringify({ extensions })),
      (r) => r.status === 200,
    );
    expect(hit.body?.data).toEqual({ health: { status: expect.any(String), checkedAt: expect.any(String) } });
  });
});

describe('rate limits against a running gateway', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: {
        VIGIL_TRUST_PROXY: '127.0.0.1',
        VIGIL_RATE_LIMIT_ANONYMOUS: '5',
        VIGIL_RATE_LIMIT_LOGIN: '2',
        VIGIL_RATE_LIMIT_WS_SUBSCRIBE: '3',
        VIGIL_COST_BUDGET: '100',
      },
    });
  });
  afterAll(() => server.close());

  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  it('answers a flood past the per-IP limit with 429, Retry-After and RATE_LIMITED, while other clients and health keep answering', async () => {
    const results = [];
    for (let i = 0; i < 8; i++) results.push(await postQuery(server.url, '{ health { status } }', {}, from('198.51.100.7')));
    expect(results.slice(0, 5).map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    for (const limited of results.slice(5)) {
      expect(limited.status).toBe(429);
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(limited.body?.errors?.[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter, requestId: expect.any(String) });
    }
    const malformed = await post(server.url, '{"query": ', from('198.51.100.7'));
    expect(malformed.status).toBe(429);
    expect((await postQuery(server.url, '{ health { status } }', {}, from('198.51.100.8'))).status).toBe(200);
    expect(await healthUp(server)).toBe(true);
    for (const probe of ['/healthz', '/readyz', '/health', '/metrics']) {
      const res = await fetch(server.url.replace('/graphql', probe), { headers: from('198.51.100.7') });
      expect([probe, res.status]).not.toEqual([probe, 429]);
    }
  });

  it('takes the client IP from X-Forwarded-For only from a trusted proxy', async () => {
    const untrusted = await startTestServer({ env: { VIGIL_RATE_LIMIT_ANONYMOUS: '2' } });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        statuses.push((await postQuery(untrusted.url, '{ health { status } }', {}, from(`203.0.113.${i}`))).status);
      }
      expect(statuses).toEqual([200, 200, 429]);
    } finally {
      await untrusted.close();
    }
  });

  it('limits sign-in attempts per IP and email more strictly', async () => {
    const login = 'mutation ($email: String!) { login(email: $email, password: "wrong-password-123") { accessToken } }';
    const attempt = (email: string, ip: string) => postQuery(server.url, login, { variables: { email } }, from(ip));
    const first = await attempt('someone@example.com', '198.51.100.20');
    const second = await attempt('SomeOne@example.com', '198.51.100.20');
    expect([code(first), code(second)]).not.toContain('RATE_LIMITED');
    const third = await attempt('someone@example.com', '198.51.100.20');
    expect(third.status).toBe(429);
    expect(code(third)).toBe('RATE_LIMITED');
    expect(third.body?.errors?.[0]?.message).toMatch(/sign-in/);
    const otherEmail = await attempt('other@example.com', '198.51.100.20');
    expect(code(otherEmail)).not.toBe('RATE_LIMITED');
  });

  it('spends a cost budget per window: cheap queries pass, an expensive flood is RATE_LIMITED', async () => {
    const ip = from('198.51.100.30');
    const expensive = '{ investigations(first: 60) { totalCount } }';
    const first = await postQuery(server.url, expensive, {}, ip);
    expect(code(first)).not.toBe('RATE_LIMITED');
    const second = await postQuery(server.url, expensive, {}, ip);
    expect(second.status).toBe(429);
    expect(second.body?.errors?.[0]?.extensions).toEqual(
      expect.objectContaining({ code: 'RATE_LIMITED', cost: 61, budget: 100, retryAfter: expect.any(Number) }),
    );
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('records rate-limit refusals as security events tied to the client IP', async () => {
    const rows = await eventually(
      () => auditActions(server, ['RATE_LIMITED', 'COST_BUDGET_EXCEEDED']),
      (r) => r.some((x) => x.action === 'COST_BUDGET_EXCEEDED') && r.some((x) => x.ip === '198.51.100.7'),
    );
    expect(rows).toEqual(
      expect.arrayContaining([
        { action: 'RATE_LIMITED', ip: '198.51.100.7', outcome: 'DENIED' },
        { action: 'COST_BUDGET_EXCEEDED', ip: '198.51.100.30', outcome: 'DENIED' },
      ]),
    );
    expect(rows.filter((r) => r.ip === '198.51.100.7' && r.action === 'RATE_LIMITED')).toHaveLength(1);
  });

  it('limits subscribe messages per websocket connection', async () => {
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 4 }, () =>
          new Promise<string>((resolve) => {
            const dispose = client.subscribe(
              { query: 'subscription { healthChanged { status } }' },
              {
                next: () => undefined,
                error: (err) => resolve(Array.isArray(err) ? String(err[0]?.extensions?.code) : 'socket error'),
                complete: () => resolve('complete'),
              },
            );
            setTimeout(() => {
              dispose();
              resolve('open');
            }, 1500);
          }),
        ),
      );
      expect(outcomes.filter((o) => o === 'RATE_LIMITED')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'open')).toHaveLength(3);
    } finally {
      await client.dispose();
    }
  });

  it('refuses an over-complex operation over websockets too', async () => {
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    try {
      const outcome = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: health { status }`).join(' ')} }` },
          { next: () => undefined, error: (err) => resolve(err), complete: () => resolve('complete') },
        );
      });
      expect(outcome).toEqual([
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', aliases: 31, requestId: expect.any(String) }) }),
      ]);
    } finally {
      await client.dispose();
    }
  });
});

describe('trusted documents (allow-listed mode)', () => {
  let server: TestServer;
  let dir: string;
  const healthText = () => Object.values(manifest).find((t) => t.startsWith('query Health '))!;
  let manifest: Record<string, string>;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-trusted-'));
    manifest = buildManifest([readFileSync(path.join(__dirname, '../operations/health.graphql'), 'utf8')]);
    const file = path.join(dir, 'trusted-documents.json');
    writeFileSync(file, JSON.stringify(manifest));
    server = await startTestServer({ env: { VIGIL_TRUSTED_DOCUMENTS: 'allow-listed', VIGIL_TRUSTED_DOCUMENTS_MANIFEST: file } });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a registered operation sent as text, by persisted-query hash, or by documentId', async () => {
    expect(print(HealthDocument)).toBe(healthText());
    expect((await graphql(server.url, HealthDocument)).data?.health.checkedAt).toEqual(expect.any(String));
    const sha256Hash = documentHash(healthText());
    const byHash = await post(server.url, JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash } } }));
    expect(byHash.status).toBe(200);
    expect(byHash.body?.data).toEqual({ health: expect.objectContaining({ status: expect.any(String) }) });
    const byId = await post(server.url, JSON.stringify({ documentId: `sha256:${sha256Hash}` }));
    expect(byId.body?.data).toEqual({ health: expect.objectContaining({ status: expect.any(String) }) });
  });

  it('refuses an unknown id with PERSISTED_QUERY_NOT_FOUND and unregistered text with FORBIDDEN, and records both', async () => {
    const unknown = await post(server.url, JSON.stringify({ documentId: 'f'.repeat(64) }));
    expect(unknown.status).toBe(400);
    expect(code(unknown)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(unknown.body?.errors?.[0]?.extensions?.requestId).toEqual(expect.any(String));
    const adHoc = await postQuery(server.url, '{ health { status } }');
    expect(adHoc.status).toBe(403);
    expect(code(adHoc)).toBe('FORBIDDEN');
    const rows = await eventually(
      () => auditActions(server, ['UNTRUSTED_DOCUMENT']),
      (r) => r.length >= 2,
    );
    expect(rows).toHaveLength(2);
    expect(await healthUp(server)).toBe(true);
  });
});

describe('introspection by configuration', () => {
  it('is refused with FORBIDDEN to anyone without ADMIN_ACCESS when set to admin', async () => {
    const server = await startTestServer({ env: { VIGIL_INTROSPECTION: 'admin' } });
    try {
      const res = await postQuery(server.url, '{ __schema { queryType { name } } }');
      expect(res.status).toBe(403);
      expect(code(res)).toBe('FORBIDDEN');
      const typename = await postQuery(server.url, '{ __typename health { status } }');
      expect(typename.status).toBe(200);
      // Names are suggested only to those who may read the schema anyway.
      const misspelled = '{ investigationz { totalCount } }';
      const anonymous = await postQuery(server.url, misspelled);
      expect(code(anonymous)).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(anonymous.body?.errors?.[0]?.message).not.toMatch(/Did you mean/);
      const token = await tokenFor(server, Role.ADMIN);
      const admin = await postQuery(server.url, misspelled, {}, { authorization: `Bearer ${token}` });
      expect(admin.body?.errors?.[0]?.message).toMatch(/Did you mean .*"investigations"/);
    } finally {
      await server.close();
    }
  });

  it('is a validation error when off, and answers when on', async () => {
    const off = await startTestServer({ env: { VIGIL_INTROSPECTION: 'off' } });
    try {
      const res = await postQuery(off.url, '{ __type(name: "Query") { name } }');
      expect(res.status).toBe(400);
      expect(code(res)).toBe('GRAPHQL_VALIDATION_FAILED');
    } finally {
      await off.close();
    }
  });
});

describe('CORS allow-list', () => {
  it('answers a preflight from an allowed origin and not from another', async () => {
    const server = await startTestServer({ env: { VIGIL_CORS_ORIGINS: 'https://console.example' } });
    try {
      const preflight = (origin: string) =>
        fetch(server.url, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
        });
      const allowed = await preflight('https://console.example');
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://console.example');
      expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
      const other = await preflight('https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.close();
    }
  });
});

describe('when Redis fails', () => {
  let redis: TestRedis;
  let server: TestServer;
  beforeAll(async () => {
    redis = await startRedis();
    server = await startTestServer({ env: { REDIS_URL: redis.url, VIGIL_RATE_LIMIT_ANONYMOUS: '4', VIGIL_BREAKER_FAILURES: '2' } });
  });
  afterAll(async () => {
    await server.close();
    await redis.stop();
  });

  it('keeps limiting in-process and keeps answering while Redis is down', async () => {
    const ask = () => postQuery(server.url, '{ health { status } }');
    expect((await ask()).status).toBe(200);
    await redis.stop();
    const during = [];
    for (let i = 0; i < 6; i++) during.push((await ask()).status);
    expect(during.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(during.slice(4)).toEqual([429, 429]);
    expect((await fetch(server.url.replace('/graphql', '/healthz'))).status).toBe(200);
    await redis.start();
  });
});
