import WebSocket from 'ws';
import { Role } from '../../src/permissions/roles';
import { AlertRaisedDocument, LogoutDocument, RaiseAlertDocument } from '../generated/graphql';
import { createUser, signIn, tokenFor } from '../helpers/auth';
import { graphql, subscribe, wsClient } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';
import { QUIET_ENV, until } from './helpers';

/** Opens a raw graphql-transport-ws connection and sends connection_init; resolves with how it closed. */
function connectRaw(url: string, token: string): { socket: WebSocket; closed: Promise<{ code: number; reason: string }> } {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })));
  return { socket, closed };
}

describe('alert subscriptions and the session behind them', () => {
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    a = await startTestServer({ env: QUIET_ENV });
    b = await startTestServer({ database: a.database, redisPrefix: a.config.redisPrefix, env: QUIET_ENV });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('closes an alertRaised connection on A with 4401 when its session is ended through B', async () => {
    const user = await createUser(a, Role.ANALYST);
    const { accessToken } = await signIn(a, user.email, user.password);
    const admin = await tokenFor(b, Role.ADMIN);
    let onClosed: (code: number) => void = () => undefined;
    const closed = new Promise<number>((resolve) => (onClosed = resolve));
    const client = wsClient(a.wsUrl, accessToken, { on: { closed: (event) => onClosed((event as { code: number }).code) } });
    const events = subscribe(client, AlertRaisedDocument, {});
    const ended = events.next().catch((error: unknown) => error);
    try {
      await until(() => a.services.alerts.feed.subscriberCount === 1, 'the subscription to be registered');
      const out = await graphql(b.url, LogoutDocument, {}, { token: accessToken });
      expect(out.errors).toBeUndefined();
      expect(await closed).toBe(4401);
      await ended;
    } finally {
      await client.dispose();
    }
    await until(() => a.services.alerts.feed.subscriberCount === 0, 'the subscription to end with its connection');
    const raised = await graphql(b.url, RaiseAlertDocument, { input: { level: 'INFO', title: 'after the logout' } }, { token: admin });
    expect(raised.errors).toBeUndefined();
  });

  it('closes an open connection with 4401 when its session reaches its absolute lifetime', async () => {
    const user = await createUser(a, Role.VIEWER);
    const { accessToken } = await signIn(a, user.email, user.password);
    await a.orm.em.fork().getConnection().execute(`update session set expires_at = now() + interval '2 seconds' where user_id = ?`, [user.id]);
    const { socket, closed } = connectRaw(a.wsUrl, accessToken);
    const acked = new Promise<string>((resolve) => socket.once('message', (data) => resolve(data.toString())));
    expect(JSON.parse(await acked)).toEqual({ type: 'connection_ack' });
    const { code, reason } = await closed;
    expect(code).toBe(4401);
    expect(reason).toMatch(/^Session ended/);
  });

  it('refuses a connection whose session has expired with 4401', async () => {
    const user = await createUser(a, Role.VIEWER);
    const { accessToken } = await signIn(a, user.email, user.password);
    await a.orm.em.fork().getConnection().execute(`update session set expires_at = now() - interval '1 second' where user_id = ?`, [user.id]);
    const { closed } = connectRaw(a.wsUrl, accessToken);
    expect((await closed).code).toBe(4401);
  });

  it('refuses a malformed token with 4401', async () => {
    const { closed } = connectRaw(a.wsUrl, 'not-a-jwt');
    expect((await closed).code).toBe(4401);
  });
});
