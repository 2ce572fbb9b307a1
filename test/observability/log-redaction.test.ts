import { randomUUID } from 'node:crypto';
import { createLogger } from '../../src/infra/logger';
import { Role } from '../../src/permissions/roles';
import { createUser, signIn } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { CapturedLog } from '../helpers/captured-log';
import { startTestServer, type TestServer } from '../helpers/server';


/** JSON-escaped too: a value inside a logged string appears escaped. */
function expectAbsent(text: string, values: string[]): void {
  for (const value of values) {
    expect(text).not.toContain(value);
    expect(text).not.toContain(JSON.stringify(value).slice(1, -1));
  }
}

describe('redaction by meaning: secrets and personal data never reach a log line, at any level', () => {
  const log = new CapturedLog();
  let server: TestServer;
  let analyst: string;
  let admin: string;
  let investigationId: string;
  beforeAll(async () => {
    server = await startTestServer({ logger: createLogger('trace', log), env: { LOG_LEVEL: 'trace', VIGIL_RATE_LIMIT_ENABLED: 'false' } });
    analyst = (await signIn(server, ...(await credentials(Role.ANALYST)))).accessToken;
    admin = (await signIn(server, ...(await credentials(Role.ADMIN)))).accessToken;
    const created = await graphql<{ createInvestigation: { id: string } }>(
      server.url,
      'mutation { createInvestigation(input: { title: "Log redaction case" }) { id } }',
      {},
      { token: analyst },
    );
    investigationId = created.data!.createInvestigation.id;
  });
  afterAll(() => server.close());

  async function credentials(role: Role): Promise<[string, string]> {
    const user = await createUser(server, role);
    return [user.email, user.password];
  }

  it('redacts variables bound to marked arguments, whatever their names', async () => {
    const user = await createUser(server, Role.VIEWER);
    const wrongPassword = `pw-${randomUUID()}`;
    const otp = `otp-${randomUUID()}`;
    await graphql(server.url, 'mutation Sneaky($u: String!, $pw: String!, $c: String) { login(email: $u, password: $pw, otp: $c) { accessToken } }', {
      u: user.email,
      pw: wrongPassword,
      c: otp,
    });
    const ok = await graphql<{ login: { accessToken: string; refreshToken: string } }>(
      server.url,
      'mutation Fine($a: String!, $b: String!) { login(email: $a, password: $b) { accessToken refreshToken } }',
      { a: user.email, b: user.password },
    );
    const refreshToken = ok.data!.login.refreshToken;
    const refreshed = await graphql<{ refreshSession: { refreshToken: string } }>(
      server.url,
      'mutation R($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }',
      { t: refreshToken },
    );
    expect(refreshed.errors).toBeUndefined();
    const line = log.lines().find((l) => l.operationName === 'Sneaky');
    expect(line?.variables).toEqual({ u: '[redacted]', pw: '[redacted]', c: '[redacted]' });
    expectAbsent(log.text, [user.email, user.password, wrongPassword, otp, refreshToken, ok.data!.login.accessToken, refreshed.data!.refreshSession.refreshToken]);
  });

  it('redacts marked fields inside input objects, as variables and as literals around variables, and keeps the rest', async () => {
    const pii = { email: `subject-${randomUUID().slice(0, 8)}@example.org`, ip: `198.51.100.${Math.floor(Math.random() * 200) + 20}`, name: `Subject ${randomUUID()}` };
    const asVariable = await graphql(
      server.url,
      'mutation Wrapped($where: ID!, $stuff: FindingInput!) { addFinding(investigationId: $where, input: $stuff) { id } }',
      { where: investigationId, stuff: { summary: 'kept summary', subjectEmail: pii.email, subjectIp: pii.ip, subjectName: pii.name } },
      { token: analyst },
    );
    expect(asVariable.errors).toBeUndefined();
    const asLiteral = await graphql(
      server.url,
      'mutation Literal($where: ID!, $x: String, $y: String, $z: String) { addFinding(investigationId: $where, input: { summary: "literal", subjectEmail: $x, subjectIp: $y, subjectName: $z }) { id } }',
      { where: investigationId, x: pii.email, y: pii.ip, z: pii.name },
      { token: analyst },
    );
    expect(asLiteral.errors).toBeUndefined();
    const password = `New-${randomUUID()}`;
    const email = `person-${randomUUID().slice(0, 8)}@test.vigil`;
    const created = await graphql(
      server.url,
      'mutation Hire($who: CreateUserInput!) { createUser(input: $who) { id } }',
      { who: { email, name: 'Kept Name', role: 'VIEWER', password } },
      { token: admin },
    );
    expect(created.errors).toBeUndefined();
    const wrapped = log.lines().find((l) => l.operationName === 'Wrapped');
    expect(wrapped?.variables).toEqual({
      where: investigationId,
      stuff: { summary: 'kept summary', subjectEmail: '[redacted]', subjectIp: '[redacted]', subjectName: '[redacted]' },
    });
    expect(log.lines().find((l) => l.operationName === 'Literal')?.variables).toEqual({ where: investigationId, x: '[redacted]', y: '[redacted]', z: '[redacted]' });
    expect(log.lines().find((l) => l.operationName === 'Hire')?.variables).toEqual({
      who: { email: '[redacted]', name: 'Kept Name', role: 'VIEWER', password: '[redacted]' },
    });
    expectAbsent(log.text, [pii.email, pii.ip, pii.name, password, email]);
  });

  it('logs a failing write carrying personal data by class, SQLSTATE, constraint and statement id, without its values', async () => {
    // A constraint the application does not know: PostgreSQL refuses the row, and its error carries
    // the statement with every value inlined and a detail listing the failing row.
    await server.orm.em
      .fork()
      .getConnection()
      .execute(`alter table finding add constraint finding_test_refuses check (subject_email is null or subject_email not like 'refused-%')`);
    const pii = { email: `refused-${randomUUID().slice(0, 8)}@example.org`, ip: `203.0.113.${Math.floor(Math.random() * 200) + 20}`, name: `Subject ${randomUUID()}` };
    const res = await graphql(
      server.url,
      'mutation Failing($i: ID!, $f: FindingInput!) { addFinding(investigationId: $i, input: $f) { id } }',
      { i: investigationId, f: { summary: 'a failing write', subjectEmail: pii.email, subjectIp: pii.ip, subjectName: pii.name } },
      { token: analyst },
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    const failure = log.lines().find((l) => (l.err as { sqlState?: string } | undefined)?.sqlState === '23514');
    expect(failure?.err).toMatchObject({
      type: 'CheckConstraintViolationException',
      constraint: 'finding_test_refuses',
      table: 'finding',
      statementId: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(failure?.err).not.toHaveProperty('message');
    expect(failure?.err).not.toHaveProperty('detail');
    expectAbsent(log.text, [pii.email, pii.ip, pii.name]);
  });

  it('logged at trace level, so no level hid anything', () => {
    expect(server.logger.level).toBe('trace');
    expect(log.lines().length).toBeGreaterThan(5);
  });
});
