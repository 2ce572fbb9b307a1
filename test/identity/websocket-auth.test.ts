import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { VigilCloseCode } from '../../src/infra/websocket';
import { Role } from '../../src/permissions/roles';
import { until } from '../alerts/helpers';
import { createUser, signIn } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

/** Opens a raw graphql-transport-ws connection with a `connection_init` payload; resolves how it ended. */
function connect(url: string, payload: Record<string, unknown>) {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const acked = new Promise<boolean>((resolve) => {
    socket.once('message', (data) => resolve(JSON.parse(data.toString()).type === 'connection_ack'));
    socket.once('close', () => resolve(false));
  });
  socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload })));
  return { socket, closed, acked };
}

/** Subscribes on a raw connection and resolves the first message for it (`next` or `error`). */
function subscribeRaw(socket: WebSocket, query: string): Promise<{ type: string; payload: unknown }> {
  return new Promise((resolve) => {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString());
      if (message.id === 's1' && (message.type === 'next' || message.type === 'error')) resolve(message);
    });
    socket.send(JSON.stringify({ id: 's1', type: 'subscribe', payload: { query } }));
  });
}

describe('websocket sign-in that clients can live with', () => {
  describe('with the default token lifetime', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ env: { VIGIL_RATE_LIMIT_ENABLED: 'false', VIGIL_SESSION_IDLE_TIMEOUT_SECONDS: '2' } });
    });
    afterAll(() => server.close());

    it.each([
      ['Authorization', (t: string) => ({ Authorization: `Bearer ${t}` })],
      ['AUTHORIZATION', (t: string) => ({ AUTHORIZATION: `Bearer ${t}` })],
      ['headers.Authorization', (t: string) => ({ headers: { Authorization: `Bearer ${t}` } })],
      ['Headers.authorization', (t: string) => ({ Headers: { authorization: `Bearer ${t}` } })],
    ])('accepts the token under %s as a signed-in connection', async (_name, payload) => {
      const user = await createUser(server, Role.VIEWER);
      const { accessToken } = await signIn(server, user.email, user.password);
      const { socket, acked } = connect(server.wsUrl, payload(accessToken));
      expect(await acked).toBe(true);
      // alertRaised is for signed-in connections only: an anonymous one would get FORBIDDEN/UNAUTHENTICATED.
      const first = await Promise.race([
        subscribeRaw(socket, 'subscription { alertRaised { id } }'),
        new Promise<{ type: string }>((resolve) => setTimeout(() => resolve({ type: 'still open' }), 500)),
      ]);
      expect(first.type).toBe('still open');
      socket.close();
    });

    it('refuses a token that is not a string, and garbage, with 4401', async () => {
      expect((await connect(server.wsUrl, { authorization: 42 }).closed).code).toBe(VigilCloseCode.SessionEnded);
      expect((await connect(server.wsUrl, { headers: { authorization: 'Bearer not-a-jwt' } }).closed).code).toBe(VigilCloseCode.SessionEnded);
    });

    it('closes an idle session’s websocket on time with 4401 (a timer, no HTTP request needed) and ends the session', async () => {
      const user = await createUser(server, Role.VIEWER);
      const { accessToken } = await signIn(server, user.email, user.password);
      const { acked, closed } = connect(server.wsUrl, { authorization: `Bearer ${accessToken}` });
      expect(await acked).toBe(true);
      const { code } = await closed;
      expect(code).toBe(VigilCloseCode.SessionEnded);
      const rows = await server.orm.em
        .fork()
        .getConnection()
        .execute<{ revoked_reason: string | null }[]>('select revoked_reason from session where user_id = ?', [user.id]);
      expect(rows.map((r) => r.revoked_reason)).toEqual(['expired']);
    });
  });

  describe('with a 2-second access token', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer({ env: { VIGIL_RATE_LIMIT_ENABLED: 'false', VIGIL_ACCESS_TOKEN_TTL_SECONDS: '2', VIGIL_HEALTH_INTERVAL_MS: '0' } });
    });
    afterAll(() => server.close());

    it('refuses an expired token at connection_init with 4440 (refresh and reconnect)', async () => {
      const user = await createUser(server, Role.VIEWER);
      const { accessToken } = await signIn(server, user.email, user.password);
      const { closed } = connect(server.wsUrl, { authorization: `Bearer ${accessToken}` });
      // Accepted first; closed with 4440 when the token's time is up.
      expect((await closed).code).toBe(VigilCloseCode.TokenExpired);
      const late = connect(server.wsUrl, { authorization: `Bearer ${accessToken}` });
      expect((await late.closed).code).toBe(VigilCloseCode.TokenExpired);
    });

    it('keeps the README client subscribed across three token expiries, and it misses no alert raised meanwhile', async () => {
      const adminUser = await createUser(server, Role.ADMIN);
      const viewer = await createUser(server, Role.VIEWER);
      const url = server.url;

      // ---- the client, written as README.md's websocket example ----
      let session = { refreshToken: (await signIn(server, viewer.email, viewer.password)).refreshToken, accessToken: '', expiresAt: new Date(0).toISOString() };
      async function freshAccessToken(): Promise<string> {
        if (Date.parse(session.expiresAt) - Date.now() > 10_000) return session.accessToken;
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: 'mutation Refresh($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken expiresAt } }',
            variables: { t: session.refreshToken },
          }),
        });
        const { data, errors } = (await response.json()) as { data?: { refreshSession: typeof session }; errors?: { message: string }[] };
        if (!data?.refreshSession) throw new Error(`sign in again: ${errors?.[0]?.message}`);
        session = data.refreshSession;
        return session.accessToken;
      }
      const closes: number[] = [];
      const client: Client = createClient({
        url: url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: async () => ({ authorization: `Bearer ${await freshAccessToken()}` }),
        retryAttempts: Infinity,
        on: { closed: (event) => closes.push((event as { code: number }).code) },
      });
      const alertRaised = {
        query: 'subscription Alerts($after: ID) { alertRaised(minLevel: WARNING, after: $after) { id seq level title } }',
        variables: { after: null as string | null },
      };
      const received: string[] = [];
      let failed: unknown;
      const unsubscribe = client.subscribe<{ alertRaised: { id: string; title: string } }>(alertRaised, {
        next: ({ data, errors }) => {
          if (!data) {
            failed = errors;
            return;
          }
          alertRaised.variables.after = data.alertRaised.id;
          received.push(data.alertRaised.title);
        },
        error: (error) => (failed = error),
        complete: () => undefined,
      });
      // ---- end of the README client ----

      try {
        const admin = (await signIn(server, adminUser.email, adminUser.password)).accessToken;
        let adminToken = admin;
        const raised: string[] = [];
        let n = 0;
        // Raise alerts while the client's connections come and go, until its token expired three times.
        while (closes.filter((c) => c === VigilCloseCode.TokenExpired).length < 3) {
          const title = `wave ${++n}`;
          let res = await graphql(url, 'mutation($t: String!) { raiseAlert(input: { level: WARNING, title: $t }) { id } }', { t: title }, { token: adminToken });
          if (res.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED') {
            adminToken = (await signIn(server, adminUser.email, adminUser.password)).accessToken;
            res = await graphql(url, 'mutation($t: String!) { raiseAlert(input: { level: WARNING, title: $t }) { id } }', { t: title }, { token: adminToken });
          }
          expect(res.errors).toBeUndefined();
          raised.push(title);
          await new Promise((resolve) => setTimeout(resolve, 250));
          if (n > 400) throw new Error(`only ${closes.length} closes after ${n} alerts: ${closes.join(',')}`);
        }
        await until(() => received.length >= raised.length, `all ${raised.length} alerts (got ${received.length})`, 20_000);
        expect(failed).toBeUndefined();
        expect(received).toEqual(raised);
        expect(closes.filter((c) => c === VigilCloseCode.TokenExpired).length).toBeGreaterThanOrEqual(3);
        expect(closes.filter((c) => c === VigilCloseCode.SessionEnded)).toEqual([]);
      } finally {
        // Disposed first: a lazy client whose last subscription goes closes with 1000 and reports it.
        await client.dispose();
        unsubscribe();
      }
    }, 120_000);
  });
});
