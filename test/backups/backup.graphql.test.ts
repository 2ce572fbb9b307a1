import { Role } from '../../src/permissions/roles';
import {
  BackupByIdDocument,
  BackupProgressDocument,
  BackupsDocument,
  CreateBackupDocument,
  DeleteBackupDocument,
  DeleteBackupV2Document,
  RestoreBackupDocument,
  VerifyBackupDocument,
  type BackupProgressSubscription,
} from '../generated/graphql';
import { tokenFor } from '../helpers/auth';
import { graphql, subscribe, wsClient } from '../helpers/clients';
import { withClient } from '../helpers/postgres';
import { startTestServer, type TestServer } from '../helpers/server';
import { seedDemoData } from './backup-helpers';

/** Creates a backup over GraphQL and follows `backupProgress` to its end. */
async function createAndFollow(server: TestServer, token: string, label: string) {
  const created = await graphql(server.url, CreateBackupDocument, { label }, { token });
  expect(created.errors).toBeUndefined();
  const backup = created.data!.createBackup;
  const client = wsClient(server.wsUrl, token);
  const events: BackupProgressSubscription['backupProgress'][] = [];
  const stream = subscribe(client, BackupProgressDocument, { id: backup.id });
  try {
    for (;;) {
      const event = await stream.next();
      expect(event.errors).toBeUndefined();
      events.push(event.data!.backupProgress);
      if (event.data!.backupProgress.status !== 'RUNNING') break;
    }
  } finally {
    await stream.close();
    await client.dispose();
  }
  return { backup, events };
}

describe('backups over GraphQL', () => {
  let server: TestServer;
  let second: TestServer;
  let admin: string;
  let superAdmin: string;
  let analyst: string;

  beforeAll(async () => {
    server = await startTestServer();
    second = await startTestServer({ database: server.database, env: { VIGIL_BACKUP_DIR: server.config.backups.dir } });
    await seedDemoData(server.database.url, 5);
    [admin, superAdmin, analyst] = await Promise.all([
      tokenFor(server, Role.ADMIN),
      tokenFor(server, Role.SUPER_ADMIN),
      tokenFor(server, Role.ANALYST),
    ]);
  });
  afterAll(async () => {
    await second?.close();
    await server?.close();
  });

  it('needs ADMIN_ACCESS to list, create or follow backups', async () => {
    const anonymous = await graphql(server.url, BackupsDocument, {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const denied = await graphql(server.url, BackupsDocument, {}, { token: analyst });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const create = await graphql(server.url, CreateBackupDocument, {}, { token: analyst });
    expect(create.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const client = wsClient(server.wsUrl, analyst);
    const stream = subscribe(client, BackupProgressDocument, { id: '00000000-0000-4000-8000-000000000000' });
    try {
      const event = await stream.next();
      expect(event.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    } finally {
      await stream.close();
      await client.dispose();
    }
  });

  it('createBackup returns RUNNING at once and backupProgress follows it to SUCCEEDED', async () => {
    const { backup, events } = await createAndFollow(server, admin, 'graphql');
    expect(backup.status).toBe('RUNNING');
    expect(backup.trigger).toBe('MANUAL');
    expect(backup.createdBy?.email).toMatch(/^admin-/);
    const last = events.at(-1)!;
    expect(last).toMatchObject({ id: `BackupProgress:${backup.id}`, backupId: backup.id, phase: 'DONE', status: 'SUCCEEDED', error: null });
    expect(last.bytesWritten).toBeGreaterThan(0);

    const shown = await graphql(server.url, BackupByIdDocument, { id: backup.id }, { token: admin });
    expect(shown.data?.backup).toMatchObject({ id: backup.id, status: 'SUCCEEDED', label: 'graphql', sizeBytes: last.bytesWritten });
    expect(shown.data?.backup?.manifest).toMatchObject({ id: backup.id, sha256: shown.data?.backup?.sha256 });
  });

  it('lists backups newest first with cursors, and refuses first > 100', async () => {
    await createAndFollow(server, admin, 'second');
    const page = await graphql(server.url, BackupsDocument, { first: 1 }, { token: admin });
    expect(page.data?.backups!.totalCount).toBeGreaterThanOrEqual(2);
    expect(page.data?.backups!.edges[0]?.node.label).toBe('second');
    expect(page.data?.backups!.pageInfo.hasNextPage).toBe(true);
    const next = await graphql(server.url, BackupsDocument, { first: 1, after: page.data!.backups!.pageInfo.endCursor }, { token: admin });
    expect(next.data?.backups!.edges[0]?.node.label).toBe('graphql');
    const tooMany = await graphql(server.url, BackupsDocument, { first: 101 }, { token: admin });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badCursor = await graphql(server.url, BackupsDocument, { after: 'nonsense' }, { token: admin });
    expect(badCursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('verifyBackup checks a backup and keeps the evidence on backup.verifications', async () => {
    const { backup } = await createAndFollow(server, admin, 'to verify');
    const verified = await graphql(server.url, VerifyBackupDocument, { id: backup.id }, { token: admin });
    expect(verified.errors).toBeUndefined();
    expect(verified.data?.verifyBackup.ok).toBe(true);
    expect(verified.data?.verifyBackup.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining(['checksum', 'size', 'trialRestore', 'rowCounts']),
    );
    const shown = await graphql(server.url, BackupByIdDocument, { id: backup.id }, { token: admin });
    expect(shown.data?.backup?.verifications).toEqual([
      expect.objectContaining({ ok: true, kind: 'VERIFY', at: verified.data?.verifyBackup.at }),
    ]);
    const missing = await graphql(server.url, VerifyBackupDocument, { id: '00000000-0000-4000-8000-000000000000' }, { token: admin });
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const unknown = await graphql(server.url, BackupByIdDocument, { id: 'not-a-uuid' }, { token: admin });
    expect(unknown.errors).toBeUndefined();
    expect(unknown.data?.backup).toBeNull();
  });

  it('restoreBackup needs SYSTEM_CONFIG and confirm = id; it restores, and another instance keeps answering', async () => {
    const { backup } = await createAndFollow(server, admin, 'to restore');
    await withClient(server.database.url, (c) => c.query(`delete from demo_item`));

    const asAdmin = await graphql(server.url, RestoreBackupDocument, { id: backup.id, confirm: backup.id }, { token: admin });
    expect(asAdmin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const unconfirmed = await graphql(server.url, RestoreBackupDocument, { id: backup.id, confirm: 'yes' }, { token: superAdmin });
    expect(unconfirmed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const restored = await graphql(server.url, RestoreBackupDocument, { id: backup.id, confirm: backup.id }, { token: superAdmin });
    expect(restored.errors).toBeUndefined();
    expect(restored.data?.restoreBackup).toMatchObject({
      ok: true,
      rolledBack: false,
      error: null,
      backup: { id: backup.id, status: 'SUCCEEDED' },
      safetyBackup: { trigger: 'PRE_RESTORE', status: 'SUCCEEDED' },
    });
    const items = await withClient(server.database.url, (c) => c.query<{ n: string }>('select count(*) as n from demo_item'));
    expect(Number(items.rows[0]!.n)).toBe(5);

    // Both instances' pools lost their connections during the restore and answer again.
    for (const instance of [second, server]) {
      const listed = await graphql(instance.url, BackupsDocument, { first: 100 }, { token: admin });
      expect(listed.errors).toBeUndefined();
      expect(listed.data?.backups!.edges.map((e) => e.node.id)).toContain(restored.data!.restoreBackup.safetyBackup!.id);
    }
  });

  it('deleteBackup needs SYSTEM_CONFIG and removes the backup', async () => {
    const { backup } = await createAndFollow(server, admin, 'to delete');
    const asAdmin = await graphql(server.url, DeleteBackupDocument, { id: backup.id }, { token: admin });
    expect(asAdmin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const deleted = await graphql(server.url, DeleteBackupDocument, { id: backup.id }, { token: superAdmin });
    expect(deleted.data?.deleteBackup).toBe(true);
    const gone = await graphql(server.url, BackupByIdDocument, { id: backup.id }, { token: admin });
    expect(gone.data?.backup).toBeNull();
    const again = await graphql(server.url, DeleteBackupDocument, { id: backup.id }, { token: superAdmin });
    expect(again.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('deleteBackupV2 needs SYSTEM_CONFIG, removes the backup and answers with its id', async () => {
    const { backup } = await createAndFollow(server, admin, 'to delete, V2');
    const asAdmin = await graphql(server.url, DeleteBackupV2Document, { id: backup.id }, { token: admin });
    expect(asAdmin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(asAdmin.data).toBeNull();
    const deleted = await graphql(server.url, DeleteBackupV2Document, { id: backup.id.toUpperCase() }, { token: superAdmin });
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data?.deleteBackupV2).toEqual({ deletedId: backup.id });
    const gone = await graphql(server.url, BackupByIdDocument, { id: backup.id }, { token: admin });
    expect(gone.data?.backup).toBeNull();
    const again = await graphql(server.url, DeleteBackupV2Document, { id: backup.id }, { token: superAdmin });
    expect(again.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
