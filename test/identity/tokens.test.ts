import { VigilCloseCode } from '../../src/infra/websocket';
import { Role } from '../../src/permissions/roles';
import { AccessTokens } from '../../src/services/auth/tokens';
import { LoginDocument, MeDocument, UpdateUserDocument } from '../generated/graphql';
import { createUser, signIn, tokenFor } from '../helpers/auth';
import { graphql, subscribe, wsClient } from '../helpers/clients';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../helpers/server';

const HEALTH_CHANGED = 'subscription { healthChanged { status } }';

function unsigned(payload: Record<string, unknown>): string {
  const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

/** A token made the way the gateway makes them, with any key and expiry. */
async function signed(key: string, claims: { sub: string; sid: string }, exp: number): Promise<string> {
  return (await new AccessTokens(Buffer.from(key), 3600).sign(claims.sub, claims.sid, new Date(exp * 1000))).token;
}

function claimsOf(token: string): { sub: string; sid: string } {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

/** Resolves with the close code once the websocket client gives up. */
function closeCodeOf(token: string | undefined, url: string): Promise<number> {
  return new Promise((resolve) => {
    const client = wsClient(url, undefined, {
      connectionParams: token === undefined ? {} : { authorization: `Bearer ${token}` },
      on: { closed: (event) => resolve((event as { code: number }).code) },
    });
    const sub = subscribe(client, HEALTH_CHANGED);
    sub.next(10_000).catch(() => undefined);
  });
}

describe('AccessTokens', () => {
  it('accepts an expired token only within the tolerance websocket operations get', async () => {
    const tokens = new AccessTokens(Buffer.from(TEST_JWT_SECRET), 900);
    const { token } = await tokens.sign('u1', 's1', new Date(Date.now() - 5000));
    await expect(tokens.verify(token)).rejects.toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    await expect(tokens.verify(token, 60)).resolves.toMatchObject({ userId: 'u1', sessionId: 's1' });
  });

  describe('verifying a token again', () => {
    const start = new Date('2030-01-01T00:00:00.000Z');
    let tokens: AccessTokens;
    let token: string;
    let hmacChecks: jest.SpiedFunction<typeof crypto.subtle.verify>;

    beforeEach(async () => {
      // Only the clock: WebCrypto and the promise machinery stay real.
      jest.useFakeTimers({ now: start, doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate', 'clearImmediate'] });
      tokens = new AccessTokens(Buffer.from(TEST_JWT_SECRET), 900);
      ({ token } = await tokens.sign('u1', 's1', new Date(start.getTime() + 3_600_000)));
      hmacChecks = jest.spyOn(crypto.subtle, 'verify');
    });
    afterEach(() => {
      hmacChecks.mockRestore();
      jest.useRealTimers();
    });

    it('should answer the same claims without checking the signature again', async () => {
      const first = await tokens.verify(token);
      const again = await tokens.verify(token);
      expect(hmacChecks).toHaveBeenCalledTimes(1);
      expect(again).toEqual(first);
      expect(again).toEqual({ userId: 'u1', sessionId: 's1', expiresAt: new Date(start.getTime() + 900_000) });
      expect(await new AccessTokens(Buffer.from(TEST_JWT_SECRET), 900).verify(token)).toEqual(first);
    });

    it('should refuse it once expired, and accept it within a tolerance, though it was verified before', async () => {
      await tokens.verify(token);
      jest.setSystemTime(start.getTime() + 899_999);
      await expect(tokens.verify(token)).resolves.toMatchObject({ userId: 'u1' });
      jest.setSystemTime(start.getTime() + 900_000);
      await expect(tokens.verify(token)).rejects.toMatchObject({ message: 'The access token has expired', extensions: { code: 'UNAUTHENTICATED' } });
      await expect(tokens.verify(token, 60)).resolves.toMatchObject({ userId: 'u1', sessionId: 's1' });
      jest.setSystemTime(start.getTime() + 960_000);
      await expect(tokens.verify(token, 60)).rejects.toMatchObject({ message: 'The access token has expired' });
    });

    it('should refuse a tampered or foreign copy of a token it verified', async () => {
      await tokens.verify(token);
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const otherUser = Buffer.from(JSON.stringify({ ...claimsOf(token), sub: 'u2' })).toString('base64url');
      const foreign = await signed('another-signing-key-0123456789-abcdefghijklmnop', claimsOf(token), start.getTime() / 1000 + 600);
      for (const bad of [`${token.slice(0, -4)}AAAA`, `${header}.${otherUser}.${signature}`, `${header}.${payload}.`, foreign]) {
        await expect(tokens.verify(bad)).rejects.toMatchObject({ message: 'The access token is not valid', extensions: { code: 'UNAUTHENTICATED' } });
      }
      await expect(tokens.verify(token)).resolves.toMatchObject({ userId: 'u1' });
    });
  });
});

describe('sign-in and access tokens', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('signs in with email and password, case-insensitively, and answers me / myPermissions', async () => {
    const user = await createUser(server, Role.SENIOR_ANALYST, { email: 'Mixed.Case@Test.Vigil' });
    const login = await graphql(server.url, LoginDocument, { email: 'MIXED.case@test.vigil', password: user.password });
    expect(login.errors).toBeUndefined();
    expect(login.data?.login.user).toMatchObject({ id: user.id, email: 'mixed.case@test.vigil', role: 'SENIOR_ANALYST', mfaEnabled: false });
    expect(new Date(login.data!.login.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const me = await graphql(server.url, MeDocument, {}, { token: login.data!.login.accessToken });
    expect(me.data?.me?.id).toBe(user.id);
    expect(me.data?.myPermissions).toEqual(['READ_INVESTIGATIONS', 'CREATE_INVESTIGATIONS', 'MODIFY_INVESTIGATIONS', 'ACCESS_PII', 'EXPORT_DATA']);
  });

  it('answers me with null and myPermissions with [] without a token', async () => {
    const me = await graphql(server.url, MeDocument);
    expect(me.errors).toBeUndefined();
    expect(me.data).toEqual({ me: null, myPermissions: [] });
  });

  it('gives an unknown email and a wrong password the same UNAUTHENTICATED answer', async () => {
    const user = await createUser(server, Role.VIEWER);
    const wrong = await graphql(server.url, LoginDocument, { email: user.email, password: 'not-the-password-at-all' });
    const unknown = await graphql(server.url, LoginDocument, { email: 'nobody-here@test.vigil', password: 'not-the-password-at-all' });
    expect(wrong.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(unknown.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(unknown.errors?.[0]?.message).toBe(wrong.errors?.[0]?.message);
  });

  describe('refuses with HTTP 401 UNAUTHENTICATED', () => {
    let token: string;
    beforeAll(async () => {
      token = await tokenFor(server, Role.ANALYST);
    });

    it.each([
      ['a token signed with another key', async () => signed('another-signing-key-0123456789-abcdefghijklmnop', claimsOf(token), Math.floor(Date.now() / 1000) + 600)],
      ['an unsigned (alg: none) token', async () => unsigned({ ...claimsOf(token), iss: 'vigil', aud: 'vigil', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 })],
      ['an expired token', async () => signed(TEST_JWT_SECRET, claimsOf(token), Math.floor(Date.now() / 1000) - 5)],
      ['a tampered token', async () => `${token.slice(0, -4)}AAAA`],
      ['garbage', async () => 'not-a-jwt'],
    ])('%s', async (_name, make) => {
      const bad = await make();
      const res = await graphql(server.url, MeDocument, {}, { token: bad });
      expect(res.status).toBe(401);
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(res.data ?? null).toBeNull();
    });

    it('a token of a user who was disabled since', async () => {
      const admin = await createUser(server, Role.ADMIN);
      const adminToken = (await signIn(server, admin.email, admin.password)).accessToken;
      const victim = await createUser(server, Role.VIEWER);
      const victimToken = (await signIn(server, victim.email, victim.password)).accessToken;
      expect((await graphql(server.url, MeDocument, {}, { token: victimToken })).data?.me?.id).toBe(victim.id);
      const disabled = await graphql(server.url, UpdateUserDocument, { id: victim.id, input: { disabled: true } }, { token: adminToken });
      expect(disabled.data?.updateUser.disabled).toBe(true);
      const res = await graphql(server.url, MeDocument, {}, { token: victimToken });
      expect(res.status).toBe(401);
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const relogin = await graphql(server.url, LoginDocument, { email: victim.email, password: victim.password });
      expect(relogin.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('a malformed Authorization header', async () => {
      const res = await graphql(server.url, MeDocument, {}, { headers: { authorization: `Basic ${token}` } });
      expect(res.status).toBe(401);
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });
  });

  describe('on websockets', () => {
    it('refuses connection_init with an invalid token with 4401 (sign in again) and an expired one with 4440 (refresh and reconnect)', async () => {
      expect(await closeCodeOf('not-a-jwt', server.wsUrl)).toBe(VigilCloseCode.SessionEnded);
      const expired = await signed(TEST_JWT_SECRET, { sub: '00000000-0000-4000-8000-000000000000', sid: '00000000-0000-4000-8000-000000000000' }, Math.floor(Date.now() / 1000) - 5);
      expect(await closeCodeOf(expired, server.wsUrl)).toBe(VigilCloseCode.TokenExpired);
    });

    it('accepts a valid token and an anonymous connection', async () => {
      const token = await tokenFor(server, Role.VIEWER);
      for (const t of [token, undefined]) {
        const client = wsClient(server.wsUrl, t);
        const sub = subscribe(client, HEALTH_CHANGED);
        const connected = new Promise<void>((resolve) => client.on('connected', () => resolve()));
        void sub.next(1000).catch(() => undefined);
        await connected;
        await sub.close();
        await client.dispose();
      }
    });
  });
});
