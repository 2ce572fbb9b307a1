import http from 'node:http';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/infra/logger';
import { migrate, openOrm } from '../../src/infra/db';
import { createServer, type VigilServer } from '../../src/server';
import { HealthChangedDocument, HealthDocument } from '../generated/graphql';
import { graphql, subscribe, wsClient } from '../helpers/clients';
import { startPostgres, withClient, type TestPostgres } from '../helpers/postgres';
import { startTestServer, type TestServer } from '../helpers/server';

describe('the gateway over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('answers { health { status } } with UP, and no components for an anonymous caller', async () => {
    const res = await graphql(server.url, HealthDocument);
    expect(res.status).toBe(200);
    expect(res.errors).toBeUndefined();
    expect(res.data?.health.status).toBe('UP');
    expect(res.data?.health.components).toBeNull();
    expect(new Date(res.data!.health.checkedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('serves liveness and readiness probes', async () => {
    const live = await fetch(server.url.replace('/graphql', '/healthz'));
    expect(live.status).toBe(200);
    const ready = await fetch(server.url.replace('/graphql', '/readyz'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', down: [] });
  });

  it('echoes a safe X-Request-Id and puts the request id on every error', async () => {
    const res = await graphql(server.url, '{ nope }', undefined, { headers: { 'x-request-id': 'trace-42' } });
    expect(res.headers.get('x-request-id')).toBe('trace-42');
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED', requestId: 'trace-42' });
  });

  it('replaces an unsafe X-Request-Id with a generated one', async () => {
    const res = await graphql(server.url, HealthDocument, undefined, { headers: { 'x-request-id': 'bad id\twith tab' } });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a syntax error with 400 GRAPHQL_PARSE_FAILED', async () => {
    const res = await graphql(server.url, '{ health { status ');
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(res.errors?.[0]?.extensions?.requestId).toEqual(expect.any(String));
  });

  it('answers a malformed JSON body with 400 BAD_REQUEST and keeps serving', async () => {
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query": ' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { extensions: { code: string; requestId: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('BAD_REQUEST');
    expect(body.errors[0]!.extensions.requestId).toBe(res.headers.get('x-request-id'));
    const after = await graphql(server.url, HealthDocument);
    expect(after.data?.health.status).toBe('UP');
  });

  it('answers a subscription sent over HTTP with 400 BAD_REQUEST pointing at websockets', async () => {
    const res = await graphql(server.url, HealthChangedDocument);
    expect(res.status).toBe(400);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect(res.errors?.[0]?.message).toMatch(/websockets/);
  });

  it('refuses a body over the size limit with 413 and no stack', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ health { status } } #${'x'.repeat(2 * 1024 * 1024)}` }),
    });
    expect(res.status).toBe(413);
    const text = await res.text();
    expect(text).toContain('BAD_REQUEST');
    expect(text).not.toMatch(/at .*\.js:\d+/);
  });
});

describe('healthChanged over graphql-ws', () => {
  let postgres: TestPostgres;
  let server: VigilServer;

  beforeAll(async () => {
    postgres = await startPostgres();
    await withClient(postgres.url(), (c) => c.query('CREATE DATABASE vigil'));
    server = await createServer(
      loadConfig({
        NODE_ENV: 'test',
        PORT: '0',
        DATABASE_URL: postgres.url('vigil'),
        VIGIL_HEALTH_INTERVAL_MS: '200',
        VIGIL_HEALTH_CHECK_TIMEOUT_MS: '1000',
        VIGIL_HEALTH_CACHE_MS: '0',
        VIGIL_JWT_SECRET: 'x'.repeat(40),
      }),
      { logger: createLogger('silent') },
    );
  });
  afterAll(async () => {
    await server?.stop();
    await postgres?.destroy();
  });

  it('pushes DOWN when the database stops and UP when it is back, on the same port and path', async () => {
    const client = wsClient(server.wsUrl);
    const events = subscribe(client, HealthChangedDocument);
    try {
      const first = await events.next();
      expect(first.data?.healthChanged.status).toBe('UP');

      await postgres.stop();
      const down = await events.next(15_000);
      expect(down.data?.healthChanged.status).toBe('DOWN');
      const ready = await fetch(server.url.replace('/graphql', '/readyz'));
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'not ready', down: [{ name: 'database' }] });

      await postgres.start();
      const up = await events.next(15_000);
      expect(up.data?.healthChanged.status).toBe('UP');
    } finally {
      await events.close();
      await client.dispose();
    }
  });
});

describe('graceful shutdown', () => {
  it('closes websockets with 1001, finishes in-flight requests and refuses new ones', async () => {
    const server = await startTestServer();
    try {
      const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
      await new Promise((resolve) => socket.once('message', resolve));
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

      // A request whose headers have arrived but whose body is still on its way is in flight:
      // shutdown must wait for it and answer it.
      const payload = JSON.stringify({ query: '{ health { status } }' });
      let stopping: Promise<void> | undefined;
      const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        });
        req.on('response', (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.write(payload.slice(0, 10));
        setTimeout(() => {
          stopping = server.stop();
          setTimeout(() => req.end(payload.slice(10)), 200);
        }, 300);
      });
      expect(await closed).toBe(1001);
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ data: { health: { status: expect.any(String) } } });
      await stopping;
      await expect(fetch(server.url.replace('/graphql', '/healthz'))).rejects.toThrow();
    } finally {
      await server.close();
    }
  });

  it('keeps committed data across a restart on the same database', async () => {
    const first = await startTestServer();
    const { database } = first;
    const orm = first.orm;
    await orm.em.getConnection().execute(`insert into system_setting (key, value) values ('restart-check', '"kept"')`);
    await first.stop();
    const again = await openOrm(database.url, 1, createLogger('silent'));
    try {
      expect(await migrate(again)).toEqual([]);
      const rows = await again.em.getConnection().execute(`select value from system_setting where key = 'restart-check'`);
      expect(rows).toEqual([{ value: 'kept' }]);
    } finally {
      await again.close(true);
      await database.drop();
    }
  });
});
