import { authenticator } from 'otplib';
import { Role } from '../../src/permissions/roles';
import {
  ConfirmMfaWithRecoveryCodesDocument,
  EnrollMfaDocument,
  LoginDocument,
  MeDocument,
  RegenerateRecoveryCodesDocument,
  ResetUserMfaDocument,
} from '../generated/graphql';
import { until } from '../alerts/helpers';
import { createUser, signIn } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

const code = (res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => res.errors?.[0]?.extensions?.code;
const codeAt = (secret: string, steps: number) => authenticator.clone({ epoch: Date.now() + steps * 30_000 }).generate(secret);

async function sql<T = Record<string, unknown>>(server: TestServer, query: string, params: unknown[] = []): Promise<T[]> {
  return server.orm.em.fork().getConnection().execute<T[]>(query, params);
}

async function alertExists(server: TestServer, fingerprint: string): Promise<boolean> {
  return (await sql(server, 'select 1 from alert where fingerprint = ?', [fingerprint])).length > 0;
}

describe('MFA recovery', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_RATE_LIMIT_ENABLED: 'false', VIGIL_HEALTH_INTERVAL_MS: '0' } });
  });
  afterAll(() => server.close());

  /** A user who confirmed MFA through confirmMfaWithRecoveryCodes. */
  async function enrolled() {
    const user = await createUser(server, Role.ANALYST);
    const { accessToken } = await signIn(server, user.email, user.password);
    const secret = (await graphql(server.url, EnrollMfaDocument, {}, { token: accessToken })).data!.enrollMfa.secret;
    const confirmed = await graphql(server.url, ConfirmMfaWithRecoveryCodesDocument, { otp: authenticator.generate(secret) }, { token: accessToken });
    expect(confirmed.errors).toBeUndefined();
    return { ...user, secret, token: accessToken, codes: confirmed.data!.confirmMfaWithRecoveryCodes.recoveryCodes };
  }

  it('confirmMfaWithRecoveryCodes returns ten distinct codes, stored only as hashes, and records MFA_ENABLE', async () => {
    const user = await enrolled();
    expect(user.codes).toHaveLength(10);
    expect(new Set(user.codes).size).toBe(10);
    const stored = await sql<{ code_hash: string }>(server, 'select code_hash from mfa_recovery_code where user_id = ?', [user.id]);
    expect(stored).toHaveLength(10);
    const normalised = user.codes.map((c) => c.replace(/-/g, ''));
    for (const row of stored) for (const c of [...user.codes, ...normalised]) expect(row.code_hash).not.toContain(c);
    const entries = await sql<{ action: string; changes: { recoveryCodesIssued: number } }>(
      server,
      `select action, changes from audit_log where action = 'MFA_ENABLE' and resource_id = ?`,
      [user.id],
    );
    expect(entries).toHaveLength(1);
    expect(entries[0]!.changes.recoveryCodesIssued).toBe(10);
    expect(JSON.stringify(entries)).not.toContain(user.codes[0]);
  });

  it('a recovery code signs in once and fails the second time; its use is audited and raises an alert', async () => {
    const user = await enrolled();
    const recovery = user.codes[3]!;
    const first = await graphql(server.url, LoginDocument, { email: user.email, password: user.password, otp: recovery.toUpperCase() });
    expect(first.errors).toBeUndefined();
    expect(first.data?.login.accessToken).toBeTruthy();
    const again = await graphql(server.url, LoginDocument, { email: user.email, password: user.password, otp: recovery });
    expect(code(again)).toBe('UNAUTHENTICATED');
    const used = await sql<{ changes: { remainingRecoveryCodes: number } }>(
      server,
      `select changes from audit_log where action = 'MFA_RECOVERY_CODE_USED' and resource_id = ?`,
      [user.id],
    );
    expect(used).toHaveLength(1);
    expect(used[0]!.changes.remainingRecoveryCodes).toBe(9);
    await until(() => alertExists(server, `security:mfa-recovery-code-used:${user.id}`), 'the recovery-code alert');
    expect(user.codes[4]).toMatch(/^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
  });

  it('regenerateRecoveryCodes needs a current code, invalidates the old codes, and the new ones work', async () => {
    const user = await enrolled();
    expect(code(await graphql(server.url, RegenerateRecoveryCodesDocument, { otp: '123456' }, { token: user.token }))).toBe('BAD_USER_INPUT');
    const regenerated = await graphql(server.url, RegenerateRecoveryCodesDocument, { otp: codeAt(user.secret, 1) }, { token: user.token });
    expect(regenerated.errors).toBeUndefined();
    const fresh = regenerated.data!.regenerateRecoveryCodes.recoveryCodes;
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((c) => user.codes.includes(c))).toEqual([]);
    expect(code(await graphql(server.url, LoginDocument, { email: user.email, password: user.password, otp: user.codes[0]! }))).toBe('UNAUTHENTICATED');
    expect((await graphql(server.url, LoginDocument, { email: user.email, password: user.password, otp: fresh[0]! })).errors).toBeUndefined();
    const entries = await sql(server, `select 1 from audit_log where action = 'MFA_RECOVERY_CODES_REGENERATED' and resource_id = ?`, [user.id]);
    expect(entries).toHaveLength(1);
    await until(() => alertExists(server, `security:mfa-recovery-codes-regenerated:${user.id}`), 'the regeneration alert');
  });

  it('resetUserMfa: an ADMIN resets another user’s second factor, revoking that user’s sessions, audited with an alert', async () => {
    const user = await enrolled();
    const adminUser = await createUser(server, Role.ADMIN);
    const admin = await signIn(server, adminUser.email, adminUser.password);
    const viewer = await createUser(server, Role.VIEWER);
    const viewerToken = (await signIn(server, viewer.email, viewer.password)).accessToken;
    expect(code(await graphql(server.url, ResetUserMfaDocument, { id: user.id }, { token: viewerToken }))).toBe('FORBIDDEN');
    // Not one's own second factor (that needs a code), not an account ranked above.
    expect(code(await graphql(server.url, ResetUserMfaDocument, { id: adminUser.id }, { token: admin.accessToken }))).toBe('FORBIDDEN');
    const superAdmin = await createUser(server, Role.SUPER_ADMIN);
    expect(code(await graphql(server.url, ResetUserMfaDocument, { id: superAdmin.id }, { token: admin.accessToken }))).toBe('FORBIDDEN');

    const reset = await graphql(server.url, ResetUserMfaDocument, { id: user.id }, { token: admin.accessToken });
    expect(reset.errors).toBeUndefined();
    expect(reset.data?.resetUserMfa).toEqual({ id: user.id, mfaEnabled: false });
    expect(code(await graphql(server.url, MeDocument, {}, { token: user.token }))).toBe('UNAUTHENTICATED');
    expect((await sql(server, 'select 1 from mfa_recovery_code where user_id = ?', [user.id])).length).toBe(0);
    // Signs in with the password alone now, and can enrol a new device.
    expect((await graphql(server.url, LoginDocument, { email: user.email, password: user.password })).errors).toBeUndefined();
    const entries = await sql<{ actor_id: string; changes: { sessionsRevoked: number } }>(
      server,
      `select actor_id, changes from audit_log where action = 'MFA_RESET' and resource_id = ?`,
      [user.id],
    );
    expect(entries).toHaveLength(1);
    expect(entries[0]!.actor_id).toBe(adminUser.id);
    expect(entries[0]!.changes.sessionsRevoked).toBeGreaterThanOrEqual(1);
    await until(() => alertExists(server, `security:mfa-reset:${user.id}`), 'the reset alert');
  });
});
