import { runSeed } from '../../src/cli/commands/seed.command';
import { Role } from '../../src/permissions/roles';
import { demoEmail, seedDemo } from '../../src/services/investigations/demo-seed';
import { InvestigationsDocument } from '../generated/graphql';
import { signIn } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, TEST_JWT_SECRET, type TestServer } from '../helpers/server';

describe('vigil seed --demo', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  }, 120_000);
  afterAll(() => server.close());

  const count = async (table: string) => {
    const rows = await server.orm.em.getKnex()(table).count<{ n: string }[]>({ n: '*' });
    return Number(rows[0]!.n);
  };

  it('creates one user per role and investigations with findings, actions and notes', async () => {
    const progress: number[] = [];
    const result = await seedDemo(server.orm, { users: server.services.users, audit: server.services.audit }, {
      investigations: 120,
      findingsPer: 5,
      password: 'demo-password-123',
      batchSize: 50,
      onProgress: (done) => progress.push(done),
    });
    expect(progress).toEqual([0, 50, 100, 120]);
    expect(result.users.map((u) => u.role)).toEqual(Object.values(Role));
    expect(result.users.every((u) => u.created && u.email === demoEmail(u.role))).toBe(true);
    expect(result).toMatchObject({ investigations: 120, findings: 600 });
    expect(await count('investigation')).toBe(120);
    expect(await count('finding')).toBe(600);
    expect(await count('recommended_action')).toBe(result.actions);
    expect(await count('note')).toBe(result.notes);
    expect(result.actions).toBeGreaterThan(0);
    expect(result.notes).toBeGreaterThan(0);

    // No copy of a finding's personal data where readers without ACCESS_PII see it.
    const findings = await server.orm.em
      .getConnection()
      .execute<{ summary: string; evidence: string; subject_email: string; subject_ip: string; subject_name: string }[]>(
        'select summary, evidence::text as evidence, subject_email, subject_ip, subject_name from finding',
      );
    expect(findings).toHaveLength(600);
    const leaks = findings.filter((f) =>
      [f.subject_email, f.subject_ip, f.subject_name].some((pii) => f.summary.includes(pii) || f.evidence.includes(pii)),
    );
    expect(leaks).toEqual([]);
    expect(findings.every((f) => !/\b\d{1,3}(\.\d{1,3}){3}\b|[0-9a-f]*::[0-9a-f]+|@/i.test(`${f.summary} ${f.evidence}`))).toBe(true);

    // The demo users sign in with the password, and the data answers real queries.
    const { accessToken } = await signIn(server, demoEmail(Role.VIEWER), 'demo-password-123');
    const page = await graphql(server.url, InvestigationsDocument, { first: 100, filter: { search: 'credential' } }, { token: accessToken });
    expect(page.errors).toBeUndefined();
    expect(page.data!.investigations!.totalCount).toBeGreaterThan(0);
    const statuses = await graphql(server.url, InvestigationsDocument, { first: 1, filter: { status: ['CLOSED'] } }, { token: accessToken });
    expect(statuses.data!.investigations!.totalCount).toBeGreaterThan(0);
  }, 120_000);

  it('runs from the command line, reuses existing demo users and prints what it did', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      DATABASE_URL: server.database.url,
      VIGIL_JWT_SECRET: TEST_JWT_SECRET,
      VIGIL_DATA_DIR: server.config.dataDir,
      LOG_LEVEL: 'silent',
    });
    delete process.env.REDIS_URL;
    const lines: string[] = [];
    try {
      const result = await runSeed(
        { demo: true, investigations: 30, findingsPer: 2, batchSize: 1000, seed: 7, password: 'another-password-1' },
        (line) => lines.push(line),
      );
      expect(result.users.every((u) => !u.created)).toBe(true);
    } finally {
      process.env = saved;
    }
    expect(lines[0]).toMatch(/^created 30 investigations, 60 findings, \d+ actions, \d+ notes in [\d.]+ s$/);
    expect(lines.join('\n')).toContain(`${demoEmail(Role.ADMIN)}  already existed, password unchanged`);
    expect(await count('investigation')).toBe(150);
  }, 120_000);

  it('refuses to run without --demo', async () => {
    await expect(runSeed({ investigations: 1, findingsPer: 1, batchSize: 1, seed: 1 })).rejects.toThrow(/--demo/);
  }, 120_000);
});
