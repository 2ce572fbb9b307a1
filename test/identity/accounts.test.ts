import { authenticator } from 'otplib';
import { Role } from '../../src/permissions/roles';
import {
  AddFindingDocument,
  ConfirmMfaDocument,
  CreateInvestigationDocument,
  CreateUserDocument,
  DisableMfaDocument,
  EnrollMfaDocument,
  InvestigationPiiDocument,
  LoginDocument,
  MeDocument,
  UpdateUserDocument,
  UsersDocument,
} from '../generated/graphql';
import { createUser, signIn, tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

const totp = authenticator.clone({ window: 1 });
/** The code of the time step `steps` after the current one. */
const codeAt = (secret: string, steps: number) => authenticator.clone({ epoch: Date.now() + steps * 30_000 }).generate(secret);

async function sql<T = Record<string, unknown>>(server: TestServer, query: string, params: unknown[] = []): Promise<T[]> {
  return server.orm.em.fork().getConnection().execute<T[]>(query, params);
}

const code = (res: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => res.errors?.[0]?.extensions?.code;

describe('accounts', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_LOCKOUT_THRESHOLD: '3', VIGIL_RATE_LIMIT_ENABLED: 'false' } });
  });
  afterAll(() => server.close());

  describe('lockout', () => {
    it('locks an account after N failures in the window, answering ACCOUNT_LOCKED with retryAfter even for the right password', async () => {
      const user = await createUser(server, Role.VIEWER);
      for (let i = 0; i < 3; i++) {
        expect(code(await graphql(server.url, LoginDocument, { email: user.email, password: `wrong-password-${i}` }))).toBe('UNAUTHENTICATED');
      }
      const locked = await graphql(server.url, LoginDocument, { email: user.email, password: user.password });
      expect(code(locked)).toBe('ACCOUNT_LOCKED');
      const retryAfter = locked.errors?.[0]?.extensions?.retryAfter as number;
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(server.config.auth.lockoutDurationSeconds);
      const events = await sql<{ action: string }>(server, `select action from audit_log where action in ('LOGIN_FAILED', 'ACCOUNT_LOCKED') and resource_id = ? order by seq`, [user.id]);
      expect(events.map((e) => e.action)).toEqual(['LOGIN_FAILED', 'LOGIN_FAILED', 'LOGIN_FAILED', 'ACCOUNT_LOCKED']);
    });

    it('unlocks once the lock period is over, and a success gives back its own attempt', async () => {
      const user = await createUser(server, Role.VIEWER);
      for (let i = 0; i < 3; i++) await graphql(server.url, LoginDocument, { email: user.email, password: 'wrong-password-x' });
      expect(code(await graphql(server.url, LoginDocument, { email: user.email, password: user.password }))).toBe('ACCOUNT_LOCKED');
      await sql(server, `update attempt_throttle set locked_until = now() - interval '1 second' where scope = 'password' and subject = ?`, [user.email]);
      const ok = await graphql(server.url, LoginDocument, { email: user.email, password: user.password });
      expect(ok.errors).toBeUndefined();
      expect(await sql(server, `select attempts, locked_until from attempt_throttle where scope = 'password' and subject = ?`, [user.email])).toEqual([
        { attempts: 0, locked_until: null },
      ]);
    });

    it('locks unknown addresses the same way, so a lockout reveals nothing', async () => {
      for (let i = 0; i < 3; i++) await graphql(server.url, LoginDocument, { email: 'ghost@test.vigil', password: 'wrong-password-x' });
      expect(code(await graphql(server.url, LoginDocument, { email: 'ghost@test.vigil', password: 'anything-at-all' }))).toBe('ACCOUNT_LOCKED');
    });

    it('the password reset of the command line lifts a lockout and ends every session', async () => {
      const user = await createUser(server, Role.VIEWER);
      const { accessToken } = await signIn(server, user.email, user.password);
      for (let i = 0; i < 3; i++) await graphql(server.url, LoginDocument, { email: user.email, password: 'wrong-password-x' });
      const { password } = await server.services.users.resetPassword(user.email);
      expect(code(await graphql(server.url, MeDocument, {}, { token: accessToken }))).toBe('UNAUTHENTICATED');
      expect((await graphql(server.url, LoginDocument, { email: user.email, password })).errors).toBeUndefined();
    });
  });

  describe('MFA', () => {
    it('enrols, confirms, then requires a code to sign in, and refuses a code used before', async () => {
      const user = await createUser(server, Role.ANALYST);
      const { accessToken } = await signIn(server, user.email, user.password);
      const enrol = await graphql(server.url, EnrollMfaDocument, {}, { token: accessToken });
      const { secret, otpauthUri } = enrol.data!.enrollMfa;
      expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/Vigil:/);
      expect(code(await graphql(server.url, ConfirmMfaDocument, { otp: '000000' }, { token: accessToken }))).toBe('BAD_USER_INPUT');
      const first = totp.generate(secret);
      expect((await graphql(server.url, ConfirmMfaDocument, { otp: first }, { token: accessToken })).data?.confirmMfa).toBe(true);

      const stored = await sql<{ mfa_secret_encrypted: string }>(server, 'select mfa_secret_encrypted from "user" where id = ?', [user.id]);
      expect(stored[0]!.mfa_secret_encrypted).not.toContain(secret);

      const without = await graphql(server.url, LoginDocument, { email: user.email, password: user.password });
      expect(code(without)).toBe('UNAUTHENTICATED');
      expect(without.errors?.[0]?.extensions?.mfaRequired).toBe(true);

      const replayed = await graphql(server.url, LoginDocument, { email: user.email, password: user.password, otp: first });
      expect(code(replayed)).toBe('UNAUTHENTICATED');

      const next = codeAt(secret, 1);
      const ok = await graphql(server.url, LoginDocument, { email: user.email, password: user.password, otp: next });
      expect(ok.errors).toBeUndefined();
      expect(ok.data?.login.user.mfaEnabled).toBe(true);
      expect(code(await graphql(server.url, LoginDocument, { email: user.email, password: user.password, otp: next }))).toBe('UNAUTHENTICATED');

      const token = ok.data!.login.accessToken;
      expect(code(await graphql(server.url, DisableMfaDocument, { otp: next }, { token }))).toBe('BAD_USER_INPUT');
      expect(code(await graphql(server.url, EnrollMfaDocument, {}, { token }))).toBe('CONFLICT');
    });
  });

  describe('user management', () => {
    let admin: { id: string; token: string };
    beforeAll(async () => {
      const user = await createUser(server, Role.ADMIN);
      admin = { id: user.id, token: (await signIn(server, user.email, user.password)).accessToken };
    });

    it('creates users with a role up to its own, and lists them', async () => {
      const created = await graphql(
        server.url,
        CreateUserDocument,
        { input: { email: 'New.Person@Test.Vigil', name: 'New Person', role: 'INVESTIGATOR', password: 'a-long-enough-password' } },
        { token: admin.token },
      );
      expect(created.errors).toBeUndefined();
      expect(created.data?.createUser).toMatchObject({ email: 'new.person@test.vigil', role: 'INVESTIGATOR', disabled: false, mfaEnabled: false });
      expect((await graphql(server.url, LoginDocument, { email: 'new.person@test.vigil', password: 'a-long-enough-password' })).errors).toBeUndefined();
      const duplicate = await graphql(
        server.url,
        CreateUserDocument,
        { input: { email: 'NEW.PERSON@test.vigil', name: 'Again', role: 'VIEWER', password: 'a-long-enough-password' } },
        { token: admin.token },
      );
      expect(code(duplicate)).toBe('CONFLICT');
      const page = await graphql(server.url, UsersDocument, { first: 2 }, { token: admin.token });
      expect(page.data?.users!.edges).toHaveLength(2);
      expect(page.data?.users!.pageInfo.hasNextPage).toBe(true);
      const rest = await graphql(server.url, UsersDocument, { first: 100, after: page.data!.users!.pageInfo.endCursor }, { token: admin.token });
      expect(rest.data!.users!.edges.length + 2).toBe(page.data!.users!.totalCount);
    });

    it('refuses weak passwords and bad emails with BAD_USER_INPUT', async () => {
      const short = await graphql(server.url, CreateUserDocument, { input: { email: 'x@test.vigil', name: 'X', role: 'VIEWER', password: 'short' } }, { token: admin.token });
      expect(code(short)).toBe('BAD_USER_INPUT');
      const email = await graphql(server.url, CreateUserDocument, { input: { email: 'not-an-email', name: 'X', role: 'VIEWER', password: 'a-long-enough-password' } }, { token: admin.token });
      expect(code(email)).toBe('BAD_USER_INPUT');
    });

    it('refuses role escalation: no role above one’s own, not one’s own role, not an account ranked above', async () => {
      const above = await graphql(
        server.url,
        CreateUserDocument,
        { input: { email: 'boss@test.vigil', name: 'Boss', role: 'SUPER_ADMIN', password: 'a-long-enough-password' } },
        { token: admin.token },
      );
      expect(code(above)).toBe('FORBIDDEN');
      const self = await graphql(server.url, UpdateUserDocument, { id: admin.id, input: { role: 'SUPER_ADMIN' } }, { token: admin.token });
      expect(code(self)).toBe('FORBIDDEN');
      const selfDown = await graphql(server.url, UpdateUserDocument, { id: admin.id, input: { role: 'VIEWER' } }, { token: admin.token });
      expect(code(selfDown)).toBe('FORBIDDEN');
      const superAdmin = await createUser(server, Role.SUPER_ADMIN);
      const demoteHigher = await graphql(server.url, UpdateUserDocument, { id: superAdmin.id, input: { disabled: true } }, { token: admin.token });
      expect(code(demoteHigher)).toBe('FORBIDDEN');
      const viewer = await createUser(server, Role.VIEWER);
      const promote = await graphql(server.url, UpdateUserDocument, { id: viewer.id, input: { role: 'SUPER_ADMIN' } }, { token: admin.token });
      expect(code(promote)).toBe('FORBIDDEN');
      const analystToken = await tokenFor(server, Role.INVESTIGATOR);
      const notAdmin = await graphql(server.url, UpdateUserDocument, { id: viewer.id, input: { role: 'INVESTIGATOR' } }, { token: analystToken });
      expect(code(notAdmin)).toBe('FORBIDDEN');
      expect((await graphql(server.url, MeDocument, {}, { token: admin.token })).data?.me?.role).toBe('ADMIN');
    });

    it('never lets the last active SUPER_ADMIN be demoted or disabled', async () => {
      await sql(server, `update "user" set disabled = true where role = 'SUPER_ADMIN'`);
      const a = await createUser(server, Role.SUPER_ADMIN);
      const b = await createUser(server, Role.SUPER_ADMIN);
      const tokenA = (await signIn(server, a.email, a.password)).accessToken;
      expect((await graphql(server.url, UpdateUserDocument, { id: b.id, input: { role: 'ADMIN' } }, { token: tokenA })).data?.updateUser.role).toBe('ADMIN');
      await expect(server.services.users.setRoleByEmail(a.email, Role.ADMIN)).rejects.toMatchObject({ extensions: { code: 'CONFLICT' } });
      await expect(server.services.users.setDisabledByEmail(a.email, true)).rejects.toMatchObject({ extensions: { code: 'CONFLICT' } });
      expect((await graphql(server.url, MeDocument, {}, { token: tokenA })).data?.me?.role).toBe('SUPER_ADMIN');
    });

    it('records every permission denial as a security event with the rule and the field', async () => {
      const viewerToken = await tokenFor(server, Role.VIEWER);
      const res = await graphql(server.url, UsersDocument, {}, { token: viewerToken, headers: { 'user-agent': 'matrix-probe/1.0' } });
      expect(code(res)).toBe('FORBIDDEN');
      const rows = await sql<{ outcome: string; reason: string; resource_type: string; actor_role: string; user_agent: string; ip: string }>(
        server,
        `select outcome, reason, resource_type, actor_role, user_agent, ip from audit_log where action = 'PERMISSION_DENIED' and user_agent = 'matrix-probe/1.0'`,
      );
      expect(rows).toEqual([
        { outcome: 'DENIED', reason: 'hasPermission:ADMIN_ACCESS', resource_type: 'Query.users', actor_role: 'VIEWER', user_agent: 'matrix-probe/1.0', ip: expect.any(String) },
      ]);
    });
  });

  describe('personal data', () => {
    it('masks subject fields for roles without ACCESS_PII, with FORBIDDEN on those paths and the rest intact', async () => {
      const analystToken = await tokenFor(server, Role.ANALYST);
      const created = await graphql(server.url, CreateInvestigationDocument, { input: { title: 'PII check' } }, { token: analystToken });
      expect(created.errors).toBeUndefined();
      const id = created.data!.createInvestigation.id;
      const finding = await graphql(
        server.url,
        AddFindingDocument,
        { investigationId: id, input: { summary: 'Suspicious sign-in', subjectEmail: 'victim@example.org', subjectIp: '203.0.113.9', subjectName: 'Victim' } },
        { token: analystToken },
      );
      expect(finding.errors).toBeUndefined();

      for (const role of [Role.VIEWER, Role.ANALYST]) {
        const res = await graphql(server.url, InvestigationPiiDocument, { id }, { token: await tokenFor(server, role) });
        const node = res.data?.investigation?.findings.edges[0]?.node;
        expect(node).toMatchObject({ summary: 'Suspicious sign-in', subjectEmail: null, subjectIp: null, subjectName: null });
        expect(res.data?.investigation?.title).toBe('PII check');
        expect(new Set(res.errors?.map((e) => e.extensions?.code))).toEqual(new Set(['FORBIDDEN']));
        expect(res.errors?.map((e) => e.path?.at(-1)).sort()).toEqual(['subjectEmail', 'subjectIp', 'subjectName']);
      }
      for (const role of [Role.SENIOR_ANALYST, Role.INVESTIGATOR, Role.ADMIN, Role.SUPER_ADMIN]) {
        const res = await graphql(server.url, InvestigationPiiDocument, { id }, { token: await tokenFor(server, role) });
        expect(res.errors).toBeUndefined();
        expect(res.data?.investigation?.findings.edges[0]?.node).toMatchObject({
          subjectEmail: 'victim@example.org',
          subjectIp: '203.0.113.9',
          subjectName: 'Victim',
        });
      }
    });
  });
});
