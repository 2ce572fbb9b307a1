import { authenticator } from 'otplib';
import { Role } from '../../src/permissions/roles';
import { ConfirmMfaDocument, DisableMfaDocument, EnrollMfaDocument, LoginDocument } from '../generated/graphql';
import { until } from '../alerts/helpers';
import { createUser, signIn, type TestUser } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

const THRESHOLD = 5;
const code = (res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => res.errors?.[0]?.extensions?.code;
/** The TOTP code of the time step `steps` after the current one. */
const codeAt = (secret: string, steps: number) => authenticator.clone({ epoch: Date.now() + steps * 30_000 }).generate(secret);

/** Secrets actually verified by both instances (the metric counts each argon2 verification / code check). */
async function checks(servers: TestServer[], kind: 'password' | 'totp' | 'recovery-code'): Promise<number> {
  let total = 0;
  for (const server of servers) {
    const metric = await server.services.metrics.credentialChecks.get();
    total += metric.values.find((v) => v.labels.kind === kind)?.value ?? 0;
  }
  return total;
}

async function sql<T = Record<string, unknown>>(server: TestServer, query: string, params: unknown[] = []): Promise<T[]> {
  return server.orm.em.fork().getConnection().execute<T[]>(query, params);
}

/** A user with MFA confirmed; returns the TOTP secret and an access token from before MFA was on. */
async function withMfa(server: TestServer): Promise<TestUser & { secret: string; token: string }> {
  const user = await createUser(server, Role.ANALYST);
  const { accessToken } = await signIn(server, user.email, user.password);
  const secret = (await graphql(server.url, EnrollMfaDocument, {}, { token: accessToken })).data!.enrollMfa.secret;
  expect((await graphql(server.url, ConfirmMfaDocument, { otp: authenticator.generate(secret) }, { token: accessToken })).data?.confirmMfa).toBe(true);
  return { ...user, secret, token: accessToken };
}

describe('attempt accounting (lockout)', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const env = {
      VIGIL_LOCKOUT_THRESHOLD: String(THRESHOLD),
      VIGIL_MFA_LOCKOUT_THRESHOLD: String(THRESHOLD),
      VIGIL_RATE_LIMIT_ENABLED: 'false',
      VIGIL_HEALTH_INTERVAL_MS: '0',
    };
    a = await startTestServer({ env });
    b = await startTestServer({ env, database: a.database });
  });
  afterAll(async () => {
    await b.close();
    await a.close();
  });

  it('checks at most the threshold of passwords when 40 wrong sign-ins and the right one arrive at once on two instances, and refuses the right one', async () => {
    const user = await createUser(a, Role.VIEWER);
    const before = await checks([a, b], 'password');
    const wrong = Array.from({ length: 40 }, (_, i) =>
      graphql((i % 2 ? a : b).url, LoginDocument, { email: user.email, password: `wrong-password-${i}` }),
    );
    const right = graphql(a.url, LoginDocument, { email: user.email, password: user.password });
    const results = await Promise.all([...wrong, right]);
    expect((await checks([a, b], 'password')) - before).toBeLessThanOrEqual(THRESHOLD);
    const rightResult = results[40]!;
    expect(rightResult.data?.login ?? null).toBeNull();
    expect(code(rightResult)).toBe('ACCOUNT_LOCKED');
    expect(rightResult.errors?.[0]?.extensions?.retryAfter).toBeGreaterThan(0);
    expect(results.slice(0, 40).every((r) => ['UNAUTHENTICATED', 'ACCOUNT_LOCKED'].includes(String(code(r))))).toBe(true);
    // The lock holds afterwards: the failures others counted were not erased by a success.
    expect(code(await graphql(b.url, LoginDocument, { email: user.email, password: user.password }))).toBe('ACCOUNT_LOCKED');
    const locked = await sql(a, `select 1 from audit_log where action = 'ACCOUNT_LOCKED' and resource_id = ?`, [user.id]);
    expect(locked.length).toBeGreaterThanOrEqual(1);
  });

  it('a success gives back only its own attempt: earlier failures still count towards the lock', async () => {
    const user = await createUser(a, Role.VIEWER);
    for (let i = 0; i < THRESHOLD - 1; i++) {
      expect(code(await graphql(a.url, LoginDocument, { email: user.email, password: `wrong-${i}-password` }))).toBe('UNAUTHENTICATED');
    }
    expect((await graphql(b.url, LoginDocument, { email: user.email, password: user.password })).errors).toBeUndefined();
    expect(code(await graphql(a.url, LoginDocument, { email: user.email, password: 'one-more-wrong-one' }))).toBe('UNAUTHENTICATED');
    expect(code(await graphql(b.url, LoginDocument, { email: user.email, password: user.password }))).toBe('ACCOUNT_LOCKED');
  });

  it('checks at most the threshold of codes when 40 wrong disableMfa codes and the right one arrive at once, locks the second factor with an audit entry and an alert', async () => {
    const user = await withMfa(a);
    const before = await checks([a, b], 'totp');
    const wrong = Array.from({ length: 40 }, (_, i) =>
      graphql((i % 2 ? a : b).url, DisableMfaDocument, { otp: String(100000 + i) }, { token: user.token }),
    );
    const right = graphql(a.url, DisableMfaDocument, { otp: codeAt(user.secret, 1) }, { token: user.token });
    const results = await Promise.all([...wrong, right]);
    expect((await checks([a, b], 'totp')) - before).toBeLessThanOrEqual(THRESHOLD);
    expect(code(results[40]!)).toBe('ACCOUNT_LOCKED');
    const mfa = await sql<{ mfa_enabled: boolean }>(a, 'select mfa_enabled from "user" where id = ?', [user.id]);
    expect(mfa[0]!.mfa_enabled).toBe(true);
    // The second factor stays locked for sign-in too, even with the right password and a fresh code.
    const signIn = await graphql(b.url, LoginDocument, { email: user.email, password: user.password, otp: codeAt(user.secret, 1) });
    expect(code(signIn)).toBe('ACCOUNT_LOCKED');
    const audit = await sql(a, `select 1 from audit_log where action = 'SECOND_FACTOR_LOCKED' and resource_id = ?`, [user.id]);
    expect(audit.length).toBeGreaterThanOrEqual(1);
    await until(
      async () => (await sql(a, 'select 1 from alert where fingerprint = ?', [`security:second-factor-lockout:${user.id}`])).length === 1,
      'the second-factor lockout alert',
    );
  });

  it('sign-in codes are limited the same way: 40 sign-ins with the right password and wrong codes check at most the threshold of codes', async () => {
    const user = await withMfa(a);
    const beforeCodes = await checks([a, b], 'totp');
    const beforePasswords = await checks([a, b], 'password');
    const wrong = Array.from({ length: 40 }, (_, i) =>
      graphql((i % 2 ? a : b).url, LoginDocument, { email: user.email, password: user.password, otp: String(200000 + i) }),
    );
    const results = await Promise.all(wrong);
    expect((await checks([a, b], 'totp')) - beforeCodes).toBeLessThanOrEqual(THRESHOLD);
    expect((await checks([a, b], 'password')) - beforePasswords).toBeLessThanOrEqual(THRESHOLD);
    expect(results.every((r) => r.data?.login == null)).toBe(true);
    expect(results.some((r) => code(r) === 'ACCOUNT_LOCKED')).toBe(true);
  });

  it('confirmMfa codes count towards the second-factor lock too', async () => {
    const user = await createUser(a, Role.ANALYST);
    const { accessToken } = await signIn(a, user.email, user.password);
    const secret = (await graphql(a.url, EnrollMfaDocument, {}, { token: accessToken })).data!.enrollMfa.secret;
    for (let i = 0; i < THRESHOLD; i++) {
      expect(code(await graphql(a.url, ConfirmMfaDocument, { otp: String(300000 + i) }, { token: accessToken }))).toBe('BAD_USER_INPUT');
    }
    expect(code(await graphql(b.url, ConfirmMfaDocument, { otp: authenticator.generate(secret) }, { token: accessToken }))).toBe('ACCOUNT_LOCKED');
  });

  it('reads the threshold from the live settings: a change through updateSystemSettings applies at once on both instances', async () => {
    const superAdmin = await createUser(a, Role.SUPER_ADMIN);
    const token = (await signIn(a, superAdmin.email, superAdmin.password)).accessToken;
    const version = (await graphql<{ systemSettings: { version: number } }>(a.url, '{ systemSettings { version } }', {}, { token })).data!.systemSettings.version;
    const changed = await graphql(
      a.url,
      'mutation($v: Int!) { updateSystemSettings(expectedVersion: $v, input: { identity: { lockoutThreshold: 2 } }) { version } }',
      { v: version },
      { token },
    );
    expect(changed.errors).toBeUndefined();
    await until(() => b.services.auth.settings().lockoutThreshold === 2, 'the setting on the other instance');
    const user = await createUser(a, Role.VIEWER);
    for (let i = 0; i < 2; i++) expect(code(await graphql(a.url, LoginDocument, { email: user.email, password: `wrong-${i}-password` }))).toBe('UNAUTHENTICATED');
    expect(code(await graphql(b.url, LoginDocument, { email: user.email, password: user.password }))).toBe('ACCOUNT_LOCKED');
  });
});
