import { Role } from '../../src/permissions/roles';
import { randomBytes } from 'node:crypto';
import { tokenFor } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/server';
import { codeOf, heapUsed, openConnection, overHttp, overWebsocket, type RawConnection, socketClient } from './edge-helpers';

const from = (ip: string) => ({ 'x-forwarded-for': ip });
const HEALTH = '{ health { status } }';

describe('one request limit for HTTP and the websocket', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { VIGIL_TRUST_PROXY: '127.0.0.1', VIGIL_RATE_LIMIT_ANONYMOUS: '5', VIGIL_RATE_LIMIT_LOGIN: '2', VIGIL_COST_BUDGET: '100' },
    });
  });
  afterAll(() => server.close());

  it('counts anonymous requests per IP across both transports', async () => {
    const ip = '198.51.100.1';
    const client = socketClient(server.wsUrl, undefined, from(ip));
    try {
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push(codeOf(await overHttp(server.url, { query: HEALTH }, from(ip))));
      for (let i = 0; i < 2; i++) codes.push(codeOf(await overWebsocket(client, { query: HEALTH })));
      expect(codes).toEqual([undefined, undefined, undefined, undefined, undefined]);
      const http = await overHttp(server.url, { query: HEALTH }, from(ip));
      const ws = await overWebsocket(client, { query: HEALTH });
      expect([http.status, codeOf(http), codeOf(ws)]).toEqual([429, 'RATE_LIMITED', 'RATE_LIMITED']);
      expect(ws.errors[0]?.extensions).toEqual(expect.objectContaining({ retryAfter: expect.any(Number), requestId: expect.any(String) }));
    } finally {
      await client.dispose();
    }
  });

  it('counts requests with an invalid Authorization header against the IP (401 until the limit, then 429)', async () => {
    const ip = '198.51.100.2';
    const statuses = [];
    for (const authorization of ['Bearer not-a-token', 'Bearer a.b.c', 'Basic abc', 'Bearer ', 'Bearer x', 'Bearer y']) {
      const res = await overHttp(server.url, { query: HEALTH }, { ...from(ip), authorization });
      statuses.push(`${res.status} ${String(codeOf(res))}`);
      expect(res.errors[0]?.extensions?.requestId).toEqual(expect.any(String));
    }
    expect(statuses.slice(0, 5).every((s) => s === '401 UNAUTHENTICATED' || s === '200 undefined')).toBe(true);
    expect(statuses[5]).toBe('429 RATE_LIMITED');
  });

  it('counts websocket connections refused for an invalid token against the IP too', async () => {
    const ip = '198.51.100.9';
    for (let i = 0; i < 5; i++) {
      const refused = await openConnection(server.wsUrl, { ip, token: `not-a-token-${i}` });
      // 4401: the token is not valid — sign in again (see README, websocket close codes).
      expect([refused.acked, refused.closeCode]).toEqual([false, 4401]);
    }
    const res = await overHttp(server.url, { query: HEALTH }, from(ip));
    expect([res.status, codeOf(res)]).toEqual([429, 'RATE_LIMITED']);
  });

  it('limits sign-ins per normalised email wherever login sits (inline fragment, named fragment) and over the websocket', async () => {
    const ip = '198.51.100.3';
    const email = `someone-${randomBytes(3).toString('hex')}@example.com`;
    const vars = { email, password: 'wrong-password-123' };
    const plain = 'mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }';
    const inline = 'mutation ($email: String!, $password: String!) { ... on Mutation { login(email: $email, password: $password) { accessToken } } }';
    const named =
      'mutation ($email: String!, $password: String!) { ...SignIn } fragment SignIn on Mutation { again: login(email: $email, password: $password) { accessToken } }';
    for (let i = 0; i < 2; i++) expect(codeOf(await overHttp(server.url, { query: plain, variables: vars }, from(ip)))).not.toBe('RATE_LIMITED');
    const other = { ...vars, email: `  ${email.toUpperCase()} ` };
    expect(codeOf(await overHttp(server.url, { query: inline, variables: other }, from(ip)))).toBe('RATE_LIMITED');
    expect(codeOf(await overHttp(server.url, { query: named, variables: vars }, from(ip)))).toBe('RATE_LIMITED');
    const client = socketClient(server.wsUrl, undefined, from(ip));
    try {
      const ws = await overWebsocket(client, { query: plain, variables: vars });
      expect(codeOf(ws)).toBe('RATE_LIMITED');
      expect(ws.errors[0]?.message).toMatch(/sign-in/);
    } finally {
      await client.dispose();
    }
  });

  it('spends one cost budget on both transports', async () => {
    const token = await tokenFor(server, Role.VIEWER);
    const expensive = '{ investigations(first: 60) { totalCount } }';
    const first = await overHttp(server.url, { query: expensive }, { authorization: `Bearer ${token}` });
    expect(first.errors).toEqual([]);
    const client = socketClient(server.wsUrl, token);
    try {
      const ws = await overWebsocket(client, { query: expensive });
      expect(ws.errors[0]?.extensions).toEqual(expect.objectContaining({ code: 'RATE_LIMITED', cost: 61, budget: 100, requestId: expect.any(String) }));
      const http = await overHttp(server.url, { query: expensive }, { authorization: `Bearer ${token}` });
      expect([http.status, codeOf(http)]).toEqual([429, 'RATE_LIMITED']);
    } finally {
      await client.dispose();
    }
  });

  it('counts a burst of simultaneous requests exactly, on HTTP and on the websocket', async () => {
    const http = await Promise.all(Array.from({ length: 20 }, () => overHttp(server.url, { query: HEALTH }, from('198.51.100.4'))));
    expect(http.filter((r) => r.status === 200)).toHaveLength(5);
    expect(http.filter((r) => r.status === 429)).toHaveLength(15);
    const clients = Array.from({ length: 12 }, () => socketClient(server.wsUrl, undefined, from('198.51.100.5')));
    try {
      const ws = await Promise.all(clients.map((c) => overWebsocket(c, { query: HEALTH })));
      expect(ws.filter((r) => r.errors.length === 0)).toHaveLength(5);
      expect(ws.filter((r) => codeOf(r) === 'RATE_LIMITED')).toHaveLength(7);
    } finally {
      await Promise.all(clients.map((c) => c.dispose()));
    }
  });
});

describe('two instances sharing Redis', () => {
  it('count one burst against one limit', async () => {
    const prefix = `test:${randomBytes(4).toString('hex')}:`;
    const env = { VIGIL_TRUST_PROXY: '127.0.0.1', VIGIL_RATE_LIMIT_ANONYMOUS: '6' };
    const a = await startTestServer({ env, redisPrefix: prefix });
    const b = await startTestServer({ env, redisPrefix: prefix, database: a.database });
    try {
      const ip = from('198.51.100.6');
      const burst = await Promise.all(
        Array.from({ length: 16 }, (_, i) => {
          const target = i % 2 ? a : b;
          if (i % 4 < 2) return overHttp(target.url, { query: HEALTH }, ip).then((r) => r.errors.length === 0);
          const client = socketClient(target.wsUrl, undefined, ip);
          return overWebsocket(client, { query: HEALTH }).then(async (r) => {
            await client.dispose();
            return r.errors.length === 0;
          });
        }),
      );
      expect(burst.filter(Boolean)).toHaveLength(6);
    } finally {
      await b.close();
      await a.close();
    }
  });
});


describe('websocket budgets', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: {
        VIGIL_TRUST_PROXY: '127.0.0.1',
        VIGIL_WS_MAX_CONNECTIONS_PER_IP: '3',
        VIGIL_WS_MAX_CONNECTIONS_PER_USER: '2',
        VIGIL_WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '4',
      },
    });
  });
  afterAll(() => server.close());

  it('closes connections past the per-IP cap with 4029, and frees the slot when one closes', async () => {
    const connections = await Promise.all(Array.from({ length: 5 }, () => openConnection(server.wsUrl, { ip: '203.0.113.1' })));
    expect(connections.filter((c) => c.acked)).toHaveLength(3);
    expect(connections.filter((c) => !c.acked).map((c) => c.closeCode)).toEqual([4029, 4029]);
    await connections.find((c) => c.acked)!.close();
    // The gateway gives the slot back once the close reaches it: a client retries, as after a 4029.
    let again = await openConnection(server.wsUrl, { ip: '203.0.113.1' });
    for (const deadline = Date.now() + 5_000; !again.acked && Date.now() < deadline; ) {
      expect(again.closeCode).toBe(4029);
      await new Promise((resolve) => setTimeout(resolve, 50));
      again = await openConnection(server.wsUrl, { ip: '203.0.113.1' });
    }
    expect(again.acked).toBe(true);
    await Promise.all([...connections, again].map((c) => c.close()));
  });

  it('closes signed-in connections past the per-user cap with 4029, from any address', async () => {
    const token = await tokenFor(server, Role.ANALYST);
    const connections: RawConnection[] = [];
    for (const ip of ['203.0.113.10', '203.0.113.11', '203.0.113.12']) connections.push(await openConnection(server.wsUrl, { ip, token }));
    expect(connections.map((c) => c.acked)).toEqual([true, true, false]);
    expect(connections[2]!.closeCode).toBe(4029);
    await Promise.all(connections.map((c) => c.close()));
  });

  it('refuses subscriptions past the per-connection cap with RATE_LIMITED, keeping the others', async () => {
    const connection = await openConnection(server.wsUrl, { ip: '203.0.113.20' });
    // healthChanged sends the current report first: a live subscription answers with data.
    const outcomes = await Promise.all(Array.from({ length: 6 }, (_, i) => connection.subscribe(String(i), 'subscription { healthChanged { status } }')));
    const refused = outcomes.filter((o) => o.errors.length > 0);
    expect(outcomes.filter((o) => o.data)).toHaveLength(4);
    expect(refused.map((o) => o.errors[0]?.extensions)).toEqual([
      expect.objectContaining({ code: 'RATE_LIMITED', reason: 'subscriptions-per-connection', limit: 4, requestId: expect.any(String) }),
      expect.objectContaining({ code: 'RATE_LIMITED', reason: 'subscriptions-per-connection' }),
    ]);
    expect(connection.socket.readyState).toBe(connection.socket.OPEN);
    await connection.close();
  });

  it('gives back its memory after more connections and subscriptions than allowed are closed', async () => {
    // Every TCP connection the gateway accepts (admitted or refused with 4029) is watched: once the
    // clients have closed, none may stay reachable from the gateway's own state.
    const accepted: WeakRef<object>[] = [];
    const watch = (socket: object) => accepted.push(new WeakRef(socket));
    server.app.server.on('connection', watch);
    const round = async () => {
      const connections = await Promise.all(
        Array.from({ length: 40 }, (_, i) => openConnection(server.wsUrl, { ip: `203.0.113.${100 + (i % 8)}` })),
      );
      const open = connections.filter((c) => c.acked);
      expect(open).toHaveLength(24);
      const subscriptions = open.flatMap((c) => Array.from({ length: 6 }, (_, i) => c.subscribe(`s${i}`, 'subscription { healthChanged { status } }')));
      const outcomes = await Promise.all(subscriptions);
      expect(outcomes.filter((o) => o.data)).toHaveLength(24 * 4);
      expect(outcomes.filter((o) => o.errors[0]?.extensions?.code === 'RATE_LIMITED')).toHaveLength(24 * 2);
      await Promise.all(connections.map((c) => c.close()));
    };
    try {
      await round();
      const baseline = await heapUsed();
      await round();
      await round();
      expect(accepted.length).toBeGreaterThanOrEqual(3 * 40);
      // The server side closes a moment after the client: collect until nothing is left, or give up.
      const retained = () => accepted.filter((ref) => ref.deref() !== undefined).length;
      for (let attempt = 0; attempt < 50 && retained() > 0; attempt++) await heapUsed();
      expect(retained()).toBe(0);
      // A coarse bound on the rest (V8's own caches and code move by a few MB between runs and Node versions).
      expect((await heapUsed()) - baseline).toBeLessThan(16 * 1024 * 1024);
    } finally {
      server.app.server.off('connection', watch);
    }
  });
});

describe('while the memory component is DOWN', () => {
  it('refuses new subscriptions with SERVICE_UNAVAILABLE and keeps answering queries', async () => {
    const server = await startTestServer({ env: { VIGIL_MEMORY_LIMIT_MB: '1', VIGIL_HEALTH_INTERVAL_MS: '100' } });
    try {
      const client = socketClient(server.wsUrl);
      let outcome = await overWebsocket(client, { query: 'subscription { healthChanged { status } }' });
      for (let i = 0; i < 50 && codeOf(outcome) !== 'SERVICE_UNAVAILABLE'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        outcome = await overWebsocket(client, { query: 'subscription { healthChanged { status } }' });
      }
      expect(outcome.errors[0]?.extensions).toEqual(
        expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', reason: 'memory', retryAfter: expect.any(Number), requestId: expect.any(String) }),
      );
      expect((await overWebsocket(client, { query: HEALTH })).errors).toEqual([]);
      await client.dispose();
    } finally {
      await server.close();
    }
  });
});
