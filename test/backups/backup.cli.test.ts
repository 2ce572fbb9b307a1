import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BackupExitCode } from '../../src/cli/commands/backup.command';
import { lines, runVigil } from '../cli/run-vigil';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { withClient } from '../helpers/postgres';
import { seedDemoData } from './backup-helpers';

jest.setTimeout(120_000);

describe('vigil backup', () => {
  let database: TestDatabase;
  let backupDir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    database = await createTestDatabase();
    backupDir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-backups-'));
    env = { DATABASE_URL: database.url, VIGIL_BACKUP_DIR: backupDir, LOG_LEVEL: 'error' };
    await seedDemoData(database.url, 5);
  });
  afterAll(async () => {
    await database.drop();
    rmSync(backupDir, { recursive: true, force: true });
  });

  let id: string;

  it('create: plain progress lines off a terminal, the result on stdout, exit 0', async () => {
    const result = await runVigil(['backup', 'create', '--label', 'from the cli'], env);
    expect(result.code).toBe(BackupExitCode.OK);
    const out = lines(result.stdout);
    expect(out).toHaveLength(1);
    const match = /^backup ([0-9a-f-]{36}) SUCCEEDED: .+, sha256 [0-9a-f]{64}$/.exec(out[0]!);
    expect(match).not.toBeNull();
    id = match![1]!;
    expect(result.stderr).toMatch(new RegExp(`backup ${id}: DUMPING`));
    expect(result.stderr).toMatch(new RegExp(`backup ${id}: DONE`));
  });

  it('list: one line per backup', async () => {
    const result = await runVigil(['backup', 'list'], env);
    expect(result.code).toBe(BackupExitCode.OK);
    expect(lines(result.stdout)).toEqual([expect.stringMatching(new RegExp(`^${id}\\s+SUCCEEDED\\s+MANUAL .* from the cli$`))]);
  });

  it('verify: every check passes, exit 0', async () => {
    const result = await runVigil(['backup', 'verify', id], env);
    expect(result.code).toBe(BackupExitCode.OK);
    expect(result.stdout).toContain(`backup ${id} verified`);
    expect(result.stdout).toMatch(/ok\s+trialRestore/);
  });

  it('restore: refuses without --confirm (exit 2) and an unknown backup (exit 4), one line on stderr', async () => {
    const unconfirmed = await runVigil(['backup', 'restore', id], env);
    expect(unconfirmed.code).toBe(BackupExitCode.USAGE);
    expect(lines(unconfirmed.stderr)).toEqual([`vigil: restoring replaces the whole database: repeat the backup id with --confirm ${id}`]);
    const unknown = '00000000-0000-4000-8000-000000000000';
    const missing = await runVigil(['backup', 'restore', unknown, '--confirm', unknown], env);
    expect(missing.code).toBe(BackupExitCode.NOT_FOUND);
    expect(lines(missing.stderr)).toEqual([`vigil: Backup ${unknown} was not found`]);
  });

  it('restore --confirm: puts the data back, exit 0', async () => {
    await withClient(database.url, (c) => c.query('delete from demo_item'));
    const result = await runVigil(['backup', 'restore', id, '--confirm', id], env);
    expect(result.code).toBe(BackupExitCode.OK);
    expect(result.stdout).toMatch(new RegExp(`^backup ${id} restored; safety backup [0-9a-f-]{36}`));
    const { rows } = await withClient(database.url, (c) => c.query<{ n: string }>('select count(*) as n from demo_item'));
    expect(Number(rows[0]!.n)).toBe(5);
  });

  it('a corrupted file: verify exits 1 naming the checksum, restore refuses with exit 2', async () => {
    const file = path.join(backupDir, `${id}.dump`);
    const bytes = readFileSync(file);
    bytes[100] ^= 0x01;
    writeFileSync(file, bytes);
    const verify = await runVigil(['backup', 'verify', id], env);
    expect(verify.code).toBe(BackupExitCode.FAILURE);
    expect(verify.stdout).toMatch(/FAIL\s+checksum/);
    const restore = await runVigil(['backup', 'restore', id, '--confirm', id], env);
    expect(restore.code).toBe(BackupExitCode.USAGE);
    expect(lines(restore.stderr)).toEqual([expect.stringMatching(new RegExp(`^vigil: Backup ${id} cannot be restored: .*checksum`))]);
  });
});
