import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { createProgram } from '../../src/cli/index';
import { createTestDatabase, testPostgresUrl, type TestDatabase } from '../helpers/database';
import { withClient } from '../helpers/postgres';
import { lines, runVigil } from './run-vigil';

// Each case starts the real `vigil` in a child process (a few seconds each on a shared machine).
jest.setTimeout(120_000);

/** Every command and subcommand of the program, with its full name (`backup create`). */
function allCommands(program: Command, prefix: string[] = []): { name: string[]; command: Command }[] {
  return program.commands.flatMap((command) => {
    const name = [...prefix, command.name()];
    return [{ name, command }, ...allCommands(command, name)];
  });
}

describe('vigil --help', () => {
  it('lists the commands and exits 0', async () => {
    const res = await runVigil(['--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Usage: vigil \[options\] \[command\]/);
    for (const command of ['migrate', 'health', 'user', 'seed', 'backup', 'security-audit']) expect(res.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    expect(res.stderr).toBe('');
  });

  it('gives every command and subcommand its own help with a description', async () => {
    const commands = allCommands(createProgram());
    expect(commands.length).toBeGreaterThanOrEqual(2);
    for (const { name, command } of commands) {
      expect({ command: name.join(' '), description: command.description() }).toEqual({ command: name.join(' '), description: expect.stringMatching(/\S/) });
      let help = '';
      const program = createProgram();
      const configure = (c: Command): void => {
        c.configureOutput({ writeOut: (s) => (help += s), writeErr: (s) => (help += s) });
        c.commands.forEach(configure);
      };
      configure(program);
      await expect(program.parseAsync(['node', 'vigil', ...name, '--help'])).rejects.toMatchObject({ exitCode: 0 });
      expect(help).toContain(`Usage: vigil ${name.join(' ')}`);
    }
  });

  it('answers an unknown command with one error line, a hint, and exit code 2', async () => {
    const res = await runVigil(['frobnicate']);
    expect(res.code).toBe(2);
    expect(lines(res.stderr)).toEqual(["error: unknown command 'frobnicate'", '(run `vigil <command> --help` for usage)']);
    expect(res.stdout).toBe('');
  });

  it('answers a wrong setting with one line naming it, and exit code 2', async () => {
    const res = await runVigil(['migrate'], { DATABASE_URL: 'mysql://localhost/vigil' });
    expect(res.code).toBe(2);
    expect(lines(res.stderr)).toEqual(['vigil: Invalid setting DATABASE_URL: must be a postgres:// or postgresql:// URL']);
  });
});

describe('vigil migrate', () => {
  const name = `vigil_cli_${randomBytes(5).toString('hex')}`;
  beforeAll(() => withClient(testPostgresUrl(), (c) => c.query(`CREATE DATABASE ${name}`)));
  afterAll(() => withClient(testPostgresUrl(), (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));

  it('applies every migration to an empty database, then finds it up to date', async () => {
    const first = await runVigil(['migrate'], { DATABASE_URL: testPostgresUrl(name) });
    expect(first).toMatchObject({ code: 0, stderr: '' });
    const out = lines(first.stdout);
    expect(out[0]).toMatch(/^applied \d+ migration\(s\):$/);
    expect(out).toContain('  Migration20261123000000_foundation');

    const tables = await withClient(testPostgresUrl(name), (c) => c.query(`SELECT count(*)::int AS n FROM mikro_orm_migrations`));
    expect(tables.rows[0].n).toBe(out.length - 1);

    const second = await runVigil(['migrate'], { DATABASE_URL: testPostgresUrl(name) });
    expect(second).toMatchObject({ code: 0, stdout: 'database is up to date\n' });
  });

  it('fails with one line and exit code 1 when the database cannot be reached', async () => {
    const res = await runVigil(['migrate'], { DATABASE_URL: 'postgres://vigil@127.0.0.1:1/vigil' });
    expect(res.code).toBe(1);
    expect(lines(res.stderr)).toEqual([expect.stringMatching(/^vigil: cannot open the database: .*ECONNREFUSED/)]);
  });
});

describe('vigil health', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it('reports UP with the database component and exits 0', async () => {
    const res = await runVigil(['health'], { DATABASE_URL: database.url });
    expect(res.code).toBe(0);
    expect(lines(res.stdout)).toEqual([expect.stringMatching(/^UP: database UP \(\d+ ms\)/)]);
  });

  it('prints the report as JSON with --json', async () => {
    const res = await runVigil(['health', '--json'], { DATABASE_URL: database.url });
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as { status: string; components: { name: string; status: string }[] };
    expect(report.status).toBe('UP');
    expect(report.components).toContainEqual(expect.objectContaining({ name: 'database', status: 'UP' }));
  });

  it('reports DOWN and exits 2 when the database cannot be reached', async () => {
    const res = await runVigil(['health'], { DATABASE_URL: 'postgres://vigil@127.0.0.1:1/vigil' });
    expect(res.code).toBe(2);
    expect(lines(res.stdout)).toEqual([expect.stringMatching(/^DOWN: database DOWN \(\d+ ms\): cannot open the database: .*ECONNREFUSED/)]);
    expect(res.stderr).toBe('');
  });
});

describe('vigil user', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it('creates an account with a generated password shown once, then refuses the same email with exit 1', async () => {
    const email = `cli-${randomBytes(4).toString('hex')}@test.vigil`;
    const res = await runVigil(['user', 'create', '--email', email, '--name', 'Cli Admin', '--role', 'ADMIN'], { DATABASE_URL: database.url });
    expect(res.code).toBe(0);
    const out = lines(res.stdout);
    expect(out[0]).toMatch(new RegExp(`^created ${email} \\(ADMIN\\) id [0-9a-f-]{36}$`));
    expect(out[1]).toMatch(/^password \(shown once\): \S{20,}$/);
    const rows = await withClient(database.url, (c) => c.query(`SELECT role FROM "user" WHERE email = $1`, [email]));
    expect(rows.rows).toEqual([{ role: 'ADMIN' }]);

    const again = await runVigil(['user', 'create', '--email', email, '--name', 'Again', '--password', 'another-long-password-1'], { DATABASE_URL: database.url });
    expect(again.code).toBe(1);
    expect(lines(again.stderr)).toEqual([expect.stringMatching(/^vigil: .*\S/)]);
  });

  it('refuses an unknown role as a usage error (exit 2) without touching the database', async () => {
    const res = await runVigil(['user', 'create', '--email', 'x@test.vigil', '--name', 'X', '--role', 'OVERLORD'], { DATABASE_URL: database.url });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/OVERLORD/);
  });

  it('refuses input the service rejects (an invalid email) as a usage error (exit 2) in one line', async () => {
    const res = await runVigil(['user', 'create', '--email', 'not-an-address', '--name', 'X', '--password', 'a-long-enough-password'], { DATABASE_URL: database.url });
    expect(res.code).toBe(2);
    expect(lines(res.stderr)).toEqual(['vigil: email is not a valid address']);
    const rows = await withClient(database.url, (c) => c.query(`SELECT count(*)::int AS n FROM "user" WHERE email = 'not-an-address'`));
    expect(rows.rows).toEqual([{ n: 0 }]);
  });
});

describe('vigil seed --demo', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it('creates the demo users and 20 investigations, with plain progress lines on stderr when not on a terminal', async () => {
    const res = await runVigil(['seed', '--demo', '--investigations', '20', '--findings-per', '2', '--password', 'demo-password-1234'], { DATABASE_URL: database.url });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^created 20 investigations, 40 findings, \d+ actions, \d+ notes in [\d.]+ s$/m);
    expect(res.stdout).toMatch(/^\s+ADMIN\s+\S+@\S+\s+password demo-password-1234$/m);
    expect(res.stderr).not.toContain('\u001b[');
    expect(lines(res.stderr).at(-1)).toMatch(/20\/20/);
    const count = await withClient(database.url, (c) => c.query(`SELECT count(*)::int AS n FROM investigation`));
    expect(count.rows[0].n).toBe(20);
  });

  it('refuses to run without --demo (exit 2, one line)', async () => {
    const res = await runVigil(['seed'], { DATABASE_URL: database.url });
    expect(res.code).toBe(2);
    expect(lines(res.stderr)).toEqual([expect.stringMatching(/^vigil: nothing to seed: pass --demo/)]);
  });
});

describe('vigil backup', () => {
  let database: TestDatabase;
  let dataDir: string;
  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-backup-'));
  });
  afterAll(async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates a backup with progress on stderr, then lists it', async () => {
    const env = { DATABASE_URL: database.url, VIGIL_DATA_DIR: dataDir };
    const created = await runVigil(['backup', 'create', '--label', 'cli-test'], env);
    expect(created.stderr).not.toContain('\u001b[');
    expect(created.code).toBe(0);
    const match = /^backup ([0-9a-f-]{36}) SUCCEEDED: .+, sha256 [0-9a-f]{64}$/m.exec(created.stdout);
    expect(match).not.toBeNull();
    expect(lines(created.stderr).length).toBeGreaterThan(0);
    expect(created.stderr).toContain(`backup ${match![1]}:`);

    const listed = await runVigil(['backup', 'list'], env);
    expect(listed.code).toBe(0);
    expect(lines(listed.stdout)).toContainEqual(expect.stringMatching(new RegExp(`^${match![1]}\\s+SUCCEEDED\\s+MANUAL\\s+.*cli-test$`)));
  });

  it('answers an unknown backup id with exit 4 and one line', async () => {
    const res = await runVigil(['backup', 'verify', '00000000-0000-4000-8000-000000000000'], { DATABASE_URL: database.url, VIGIL_DATA_DIR: dataDir });
    expect(res.code).toBe(4);
    expect(lines(res.stderr)).toHaveLength(1);
  });
});

describe('vigil security-audit', () => {
  it('rates a weak signing key in production CRITICAL and exits 1', async () => {
    const res = await runVigil(['security-audit'], { NODE_ENV: 'production', VIGIL_JWT_SECRET: 'a'.repeat(40), DATABASE_URL: 'postgres://vigil@127.0.0.1:1/vigil' });
    expect(res.code).toBe(1);
    expect(lines(res.stdout)[0]).toMatch(/^risk: CRITICAL \(score [\d.]+\)$/);
    expect(res.stdout).toMatch(/^\s+FAIL\s+signing-key-strength\s/m);
  });

  it('prints a machine-readable report with --json', async () => {
    const res = await runVigil(['security-audit', '--json'], { VIGIL_JWT_SECRET: randomBytes(48).toString('base64') });
    expect([0, 1]).toContain(res.code);
    const report = JSON.parse(res.stdout) as { riskLevel: string; riskScore: number; checks: { name: string; status: string }[] };
    expect(report.riskLevel).toMatch(/^(LOW|MEDIUM|HIGH|CRITICAL)$/);
    expect(res.code).toBe(['HIGH', 'CRITICAL'].includes(report.riskLevel) ? 1 : 0);
    expect(report.checks.length).toBeGreaterThan(3);
  });
});
