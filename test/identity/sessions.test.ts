import { VigilCloseCode } from '../../src/infra/websocket';
import { randomBytes } from 'node:crypto';
import { CloseCode } from 'graphql-ws';
import { Role } from '../../src/permissions/roles';
import {
  LoginDocument,
  LogoutDocument,
  MeDocument,
  MySessionsDocument,
  RefreshSessionDocument,
  RevokeSessionDocument,
  RevokeSessionV2Document,
  UpdateUserDocument,
} from '../generated/graphql';
import { createUser, signIn, tokenFor } from '../helpers/auth';
import { graphql, subscribe, wsClient } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

const HEALTH_CHANGED = 'subscription { healthChanged { status } }';

async function sql<T = Record<string, unknown>>(server: TestServer, query: string, params: unknown[] = []): Promise<T[]> {
  return server.orm.em.fork().getConnection().execute<T[]>(query, params);
}

async function meCode(server: TestServer, token: string): Promise<string | undefined> {
  const res = await graphql(server.url, MeDocument, {}, { token });
  return res.errors?.[0]?.extensions?.code as string | undefined;
}

async function sessionIdOf(token: string): Promise<string> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')).sid;
}

/** A signed-in websocket connection holding a subscription; resolves `closed` with the close code. */
async function openSubscription(server: TestServer, token: string) {
  let resolveClosed!: (code: number) => void;
  const closed = new Promise<number>((resolve) => (resolveClosed = resolve));
  let resolveConnected!: () => void;
  const connected = new Promise<void>((resolve) => (resolveConnected = resolve));
  const client = wsClient(server.wsUrl, token, {
    on: { connected: () => resolveConnected(), closed: (event) => resolveClosed((event as { code: number }).code) },
  });
  const sub = subscribe(client, HEALTH_CHANGED);
  void sub.next(30_000).catch(() => undefined);
  await connected;
  return { closed, dispose: () => client.dispose() };
}

describe('sessions', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_MAX_SESSIONS_PER_USER: '3', VIGIL_RATE_LIMIT_ENABLED: 'false' } });
  });
  afterAll(() => server.close());

  it('rotates the refresh token: the new pair works, the old refresh token is spent', async () => {
    const user = await createUser(server, Role.VIEWER);
    const first = await signIn(server, user.email, user.password);
    const refreshed = await graphql(server.url, RefreshSessionDocument, { refreshToken: first.refreshToken });
    expect(refreshed.errors).toBeUndefined();
    const next = refreshed.data!.refreshSession;
    expect(next.refreshToken).not.toBe(first.refreshToken);
    expect(next.user.id).toBe(user.id);
    expect(await meCode(server, next.accessToken)).toBeUndefined();
    const again = await graphql(server.url, RefreshSessionDocument, { refreshToken: next.refreshToken });
    expect(again.errors).toBeUndefined();
  });

  it('two concurrent refreshSession calls with one token both succeed with the same pair and leave one live session', async () => {
    const user = await createUser(server, Role.ANALYST);
    const first = await signIn(server, user.email, user.password);
    const [a, b] = await Promise.all([
      graphql(server.url, RefreshSessionDocument, { refreshToken: first.refreshToken }),
      graphql(server.url, RefreshSessionDocument, { refreshToken: first.refreshToken }),
    ]);
    expect(a.errors).toBeUndefined();
    expect(b.errors).toBeUndefined();
    expect(a.data!.refreshSession.refreshToken).toBe(b.data!.refreshSession.refreshToken);
    expect(a.data!.refreshSession.accessToken).toBe(b.data!.refreshSession.accessToken);
    const sessions = await graphql(server.url, MySessionsDocument, {}, { token: a.data!.refreshSession.accessToken });
    expect(sessions.data?.mySessions).toHaveLength(1);
    expect(await meCode(server, b.data!.refreshSession.accessToken)).toBeUndefined();
    const next = await graphql(server.url, RefreshSessionDocument, { refreshToken: b.data!.refreshSession.refreshToken });
    expect(next.errors).toBeUndefined();
    expect(await sql(server, `select 1 from audit_log where action = 'REFRESH_TOKEN_REUSE' and resource_id = ?`, [await sessionIdOf(first.accessToken)])).toEqual([]);
  });

  it('a reuse from another client, even within the grace window, revokes the session', async () => {
    const user = await createUser(server, Role.ANALYST);
    const first = await signIn(server, user.email, user.password);
    const second = (await graphql(server.url, RefreshSessionDocument, { refreshToken: first.refreshToken })).data!.refreshSession;
    const replay = await graphql(server.url, RefreshSessionDocument, { refreshToken: first.refreshToken }, { headers: { 'user-agent': 'another-client/1.0' } });
    expect(replay.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await meCode(server, second.accessToken)).toBe('UNAUTHENTICATED');
  });

  it('revokes the whole session when a used refresh token is presented again after the grace window (theft detection)', async () => {
    const user = await createUser(server, Role.ANALYST);
    const first = await signIn(server, user.email, user.password);
    const second = (await graphql(server.url, RefreshSessionDocument, { refreshToken: first.refreshToken })).data!.refreshSession;
    await sql(server, `update refresh_token set used_at = used_at - make_interval(secs => ?) where session_id = ? and used_at is not null`, [
      server.config.auth.refreshReuseGraceSeconds + 1,
      await sessionIdOf(first.accessToken),
    ]);
    const replay = await graphql(server.url, RefreshSessionDocument, { refreshToken: first.refreshToken });
    expect(replay.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(await meCode(server, second.accessToken)).toBe('UNAUTHENTICATED');
    expect(await meCode(server, first.accessToken)).toBe('UNAUTHENTICATED');
    const legit = await graphql(server.url, RefreshSessionDocument, { refreshToken: second.refreshToken });
    expect(legit.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const events = await sql<{ action: string; outcome: string }>(server, `select action, outcome from audit_log where action = 'REFRESH_TOKEN_REUSE' and resource_id = ?`, [
      await sessionIdOf(first.accessToken),
    ]);
    expect(events).toEqual([{ action: 'REFRESH_TOKEN_REUSE', outcome: 'DENIED' }]);
  });

  it('refuses an unknown refresh token', async () => {
    const res = await graphql(server.url, RefreshSessionDocument, { refreshToken: 'made-up-token' });
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('ends a session after the idle timeout', async () => {
    const user = await createUser(server, Role.VIEWER);
    const { accessToken, refreshToken } = await signIn(server, user.email, user.password);
    const idle = server.config.auth.sessionIdleTimeoutSeconds;
    await sql(server, `update session set last_seen_at = now() - make_interval(secs => ?) where id = ?`, [idle + 5, await sessionIdOf(accessToken)]);
    expect(await meCode(server, accessToken)).toBe('UNAUTHENTICATED');
    const refresh = await graphql(server.url, RefreshSessionDocument, { refreshToken });
    expect(refresh.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('ends a session at its absolute lifetime even while in use, and caps the access token there', async () => {
    const user = await createUser(server, Role.VIEWER);
    const login = await graphql(server.url, LoginDocument, { email: user.email, password: user.password });
    const { accessToken, refreshToken, expiresAt } = login.data!.login;
    const lifetimeEnd = Date.now() + server.config.auth.sessionMaxLifetimeSeconds * 1000;
    expect(new Date(expiresAt).getTime()).toBeLessThanOrEqual(lifetimeEnd);
    await sql(server, `update session set expires_at = now() - interval '1 second' where id = ?`, [await sessionIdOf(accessToken)]);
    expect(await meCode(server, accessToken)).toBe('UNAUTHENTICATED');
    const refresh = await graphql(server.url, RefreshSessionDocument, { refreshToken });
    expect(refresh.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('keeps at most N sessions per user, revoking the oldest first', async () => {
    const user = await createUser(server, Role.VIEWER);
    const tokens: string[] = [];
    for (let i = 0; i < 4; i++) tokens.push((await signIn(server, user.email, user.password)).accessToken);
    expect(await meCode(server, tokens[0]!)).toBe('UNAUTHENTICATED');
    for (const token of tokens.slice(1)) expect(await meCode(server, token)).toBeUndefined();
    const sessions = await graphql(server.url, MySessionsDocument, {}, { token: tokens[3]! });
    expect(sessions.data?.mySessions).toHaveLength(3);
    expect(sessions.data?.mySessions.filter((s) => s.current).map((s) => s.id)).toEqual([await sessionIdOf(tokens[3]!)]);
  });

  it('logout ends the session: its access and refresh tokens stop working', async () => {
    const user = await createUser(server, Role.VIEWER);
    const { accessToken, refreshToken } = await signIn(server, user.email, user.password);
    const out = await graphql(server.url, LogoutDocument, {}, { token: accessToken });
    expect(out.data?.logout).toBe(true);
    expect(await meCode(server, accessToken)).toBe('UNAUTHENTICATED');
    expect((await graphql(server.url, RefreshSessionDocument, { refreshToken })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  /** Alice signed in twice, Bob (same role) and an administrator: who may end which session. */
  async function revocationCast() {
    const alice = await createUser(server, Role.ANALYST);
    const bob = await createUser(server, Role.ANALYST);
    const admin = await createUser(server, Role.ADMIN);
    return {
      aliceA: await signIn(server, alice.email, alice.password),
      aliceB: await signIn(server, alice.email, alice.password),
      bobToken: (await signIn(server, bob.email, bob.password)).accessToken,
      adminToken: (await signIn(server, admin.email, admin.password)).accessToken,
    };
  }

  it("revokeSession: own sessions yes, another user's no, any with ADMIN_ACCESS", async () => {
    const { aliceA, aliceB, bobToken, adminToken } = await revocationCast();

    const foreign = await graphql(server.url, RevokeSessionDocument, { id: await sessionIdOf(aliceA.accessToken) }, { token: bobToken });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await meCode(server, aliceA.accessToken)).toBeUndefined();

    const own = await graphql(server.url, RevokeSessionDocument, { id: await sessionIdOf(aliceB.accessToken) }, { token: aliceA.accessToken });
    expect(own.data?.revokeSession).toBe(true);
    expect(await meCode(server, aliceB.accessToken)).toBe('UNAUTHENTICATED');

    const byAdmin = await graphql(server.url, RevokeSessionDocument, { id: await sessionIdOf(aliceA.accessToken) }, { token: adminToken });
    expect(byAdmin.data?.revokeSession).toBe(true);
    expect(await meCode(server, aliceA.accessToken)).toBe('UNAUTHENTICATED');

    const unknown = await graphql(server.url, RevokeSessionDocument, { id: '00000000-0000-4000-8000-000000000000' }, { token: adminToken });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('revokeSession with the id in capitals ends the session as the lowercase id does', async () => {
    const carol = await createUser(server, Role.VIEWER);
    const { accessToken } = await signIn(server, carol.email, carol.password);
    const other = await signIn(server, carol.email, carol.password);
    const id = await sessionIdOf(accessToken);
    const res = await graphql(server.url, RevokeSessionDocument, { id: id.toUpperCase() }, { token: other.accessToken });
    expect(res.data?.revokeSession).toBe(true);
    expect(await meCode(server, accessToken)).toBe('UNAUTHENTICATED');
  });

  it("revokeSessionV2: the same rules, answering with the ended session's id, which leaves mySessions", async () => {
    const { aliceA, aliceB, bobToken, adminToken } = await revocationCast();
    const aliceBSession = await sessionIdOf(aliceB.accessToken);

    const anonymous = await graphql(server.url, RevokeSessionV2Document, { id: aliceBSession });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const foreign = await graphql(server.url, RevokeSessionV2Document, { id: aliceBSession }, { token: bobToken });
    expect(foreign.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(foreign.data).toBeNull();
    expect(await meCode(server, aliceB.accessToken)).toBeUndefined();

    const own = await graphql(server.url, RevokeSessionV2Document, { id: aliceBSession.toUpperCase() }, { token: aliceA.accessToken });
    expect(own.errors).toBeUndefined();
    expect(own.data?.revokeSessionV2).toEqual({ revokedId: aliceBSession });
    expect(await meCode(server, aliceB.accessToken)).toBe('UNAUTHENTICATED');
    const left = await graphql(server.url, MySessionsDocument, {}, { token: aliceA.accessToken });
    expect(left.data?.mySessions.map((s) => s.id)).not.toContain(aliceBSession);

    const aliceASession = await sessionIdOf(aliceA.accessToken);
    const byAdmin = await graphql(server.url, RevokeSessionV2Document, { id: aliceASession }, { token: adminToken });
    expect(byAdmin.data?.revokeSessionV2).toEqual({ revokedId: aliceASession });
    expect(await meCode(server, aliceA.accessToken)).toBe('UNAUTHENTICATED');

    const unknown = await graphql(server.url, RevokeSessionV2Document, { id: '00000000-0000-4000-8000-000000000000' }, { token: adminToken });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('revocation across gateway instances sharing Postgres and Redis', () => {
  let a: TestServer;
  let b: TestServer;
  const redisPrefix = `revocation-${randomBytes(4).toString('hex')}:`;
  beforeAll(async () => {
    a = await startTestServer({ redisPrefix });
    b = await startTestServer({ database: a.database, redisPrefix });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a logout on one instance refuses the token on the other at once, over HTTP', async () => {
    // B has the session cached each time; the refusal must not wait for the pub/sub notice.
    for (let round = 0; round < 10; round++) {
      const user = await createUser(a, Role.VIEWER);
      const { accessToken } = await signIn(a, user.email, user.password);
      expect(await meCode(b, accessToken)).toBeUndefined();
      expect((await graphql(a.url, LogoutDocument, {}, { token: accessToken })).data?.logout).toBe(true);
      expect(await meCode(b, accessToken)).toBe('UNAUTHENTICATED');
    }
  });

  it('a role change on one instance gives the other instance the new rights at once, over HTTP', async () => {
    const adminToken = await tokenFor(a, Role.ADMIN);
    const user = await createUser(a, Role.ANALYST);
    const { accessToken } = await signIn(a, user.email, user.password);
    const permissions = async () => (await graphql<{ myPermissions: string[] }>(b.url, '{ myPermissions }', {}, { token: accessToken })).data?.myPermissions;
    expect(await permissions()).toContain('CREATE_INVESTIGATIONS');
    const changed = await graphql(a.url, UpdateUserDocument, { id: user.id, input: { role: 'VIEWER' } }, { token: adminToken });
    expect(changed.errors).toBeUndefined();
    expect(await permissions()).not.toContain('CREATE_INVESTIGATIONS');
  });

  it('closes open subscriptions of a revoked session on the other instance with 4401 (sign in again)', async () => {
    const user = await createUser(a, Role.VIEWER);
    const session = await signIn(a, user.email, user.password);
    const other = await signIn(a, user.email, user.password);
    const revoked = await openSubscription(b, session.accessToken);
    const untouched = await openSubscription(b, other.accessToken);
    expect((await graphql(a.url, LogoutDocument, {}, { token: session.accessToken })).data?.logout).toBe(true);
    expect(await revoked.closed).toBe(VigilCloseCode.SessionEnded);
    expect(await meCode(b, other.accessToken)).toBeUndefined();
    await untouched.dispose();
    await revoked.dispose();
  });

  it("closes a user's subscriptions on every instance when an administrator changes the role", async () => {
    const admin = await createUser(a, Role.ADMIN);
    const adminToken = (await signIn(a, admin.email, admin.password)).accessToken;
    const user = await createUser(a, Role.ANALYST);
    const { accessToken } = await signIn(a, user.email, user.password);
    const open = await openSubscription(b, accessToken);
    const changed = await graphql(a.url, UpdateUserDocument, { id: user.id, input: { role: 'VIEWER' } }, { token: adminToken });
    expect(changed.data?.updateUser.role).toBe('VIEWER');
    expect(await open.closed).toBe(CloseCode.Forbidden);
    await open.dispose();
    const me = await graphql(b.url, MeDocument, {}, { token: accessToken });
    expect(me.data?.me?.role).toBe('VIEWER');
    expect(me.data?.myPermissions).toEqual(['READ_INVESTIGATIONS']);
  });
});
