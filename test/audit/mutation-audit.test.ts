import { authenticator } from 'otplib';
import { Role } from '../../src/permissions/roles';
import {
  AuditedAcknowledgeAlertDocument,
  AuditedAddActionDocument,
  AuditedAddFindingDocument,
  AuditedAddNoteDocument,
  AuditedConfirmMfaDocument,
  AuditedCreateBackupDocument,
  AuditedCreateInvestigationDocument,
  AuditedCreateUserDocument,
  AuditedDeleteBackupDocument,
  AuditedDeleteBackupV2Document,
  AuditedDeleteInvestigationDocument,
  AuditedDeleteInvestigationV2Document,
  AuditedDisableMfaDocument,
  AuditedEnrollMfaDocument,
  AuditedExportInvestigationDocument,
  AuditedLoginDocument,
  AuditedLogoutDocument,
  AuditedMySessionsDocument,
  AuditedOpenInvestigationFromAlertDocument,
  AuditedRaiseAlertDocument,
  AuditedRefreshSessionDocument,
  AuditedResolveAlertDocument,
  AuditedRestoreBackupDocument,
  AuditedRevokeSessionDocument,
  AuditedRevokeSessionV2Document,
  AuditedSilenceAlertsDocument,
  AuditedUpdateActionStatusDocument,
  AuditedUpdateInvestigationDocument,
  AuditedUpdateUserDocument,
  AuditedVerifyBackupDocument,
  ExportAuditLogsDocument,
} from '../generated/graphql';
import { auditEntries, type TestAuditEntry } from '../helpers/audit';
import { createUser, signIn } from '../helpers/auth';
import { graphql, type GraphQLResponse } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

/**
 * One scenario per audited mutation: the mutation succeeds through GraphQL and its entry is
 * committed with the acting user, the resource and the outcome. `mutation-coverage.test.ts` checks
 * that every mutation of the schema has a scenario here (or in another area's test file).
 */

type Signed = { id: string; email: string; token: string; refreshToken: string };

async function signedIn(server: TestServer, role: Role): Promise<Signed> {
  const user = await createUser(server, role);
  const tokens = await signIn(server, user.email, user.password);
  return { id: user.id, email: user.email, token: tokens.accessToken, refreshToken: tokens.refreshToken };
}

function ok<T>(res: GraphQLResponse<T>): T {
  expect(res.errors).toBeUndefined();
  return res.data!;
}

/** The newest entry of an action (and resource); fails when there is none. */
async function entry(server: TestServer, action: string, resourceId?: string): Promise<TestAuditEntry> {
  const entries = await auditEntries(server, { action, ...(resourceId ? { resourceId } : {}) });
  expect(entries.length).toBeGreaterThan(0);
  return entries.at(-1)!;
}

describe('every mutation writes its audit entry', () => {
  let server: TestServer;
  let admin: Signed;
  let investigator: Signed;

  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_RATE_LIMIT_ENABLED: 'false' } });
    admin = await signedIn(server, Role.ADMIN);
    investigator = await signedIn(server, Role.INVESTIGATOR);
  });
  afterAll(() => server?.close());

  describe('identity', () => {
    it('login → LOGIN_SUCCESS', async () => {
      const user = await createUser(server, Role.VIEWER);
      const data = ok(await graphql(server.url, AuditedLoginDocument, { email: user.email, password: user.password }));
      expect(await entry(server, 'LOGIN_SUCCESS')).toMatchObject({ actorId: data.login.user.id, outcome: 'SUCCESS' });
    });

    it('refreshSession → SESSION_REFRESH', async () => {
      const me = await signedIn(server, Role.VIEWER);
      ok(await graphql(server.url, AuditedRefreshSessionDocument, { refreshToken: me.refreshToken }));
      expect(await entry(server, 'SESSION_REFRESH')).toMatchObject({ actorId: me.id, outcome: 'SUCCESS' });
    });

    it('logout → LOGOUT', async () => {
      const me = await signedIn(server, Role.VIEWER);
      expect(ok(await graphql(server.url, AuditedLogoutDocument, {}, { token: me.token })).logout).toBe(true);
      expect(await entry(server, 'LOGOUT')).toMatchObject({ actorId: me.id, resourceType: 'Session', outcome: 'SUCCESS' });
    });

    it('revokeSession → SESSION_REVOKE', async () => {
      const me = await signedIn(server, Role.VIEWER);
      const sessions = ok(await graphql(server.url, AuditedMySessionsDocument, {}, { token: me.token })).mySessions;
      const session = sessions.find((s) => s.current)!;
      ok(await graphql(server.url, AuditedRevokeSessionDocument, { id: session.id }, { token: admin.token }));
      expect(await entry(server, 'SESSION_REVOKE', session.id)).toMatchObject({ actorId: admin.id, resourceType: 'Session' });
    });

    it('revokeSessionV2 → SESSION_REVOKE', async () => {
      const me = await signedIn(server, Role.VIEWER);
      const session = ok(await graphql(server.url, AuditedMySessionsDocument, {}, { token: me.token })).mySessions.find((s) => s.current)!;
      const answer = ok(await graphql(server.url, AuditedRevokeSessionV2Document, { id: session.id }, { token: me.token }));
      expect(answer.revokeSessionV2.revokedId).toBe(session.id);
      expect(await entry(server, 'SESSION_REVOKE', session.id)).toMatchObject({ actorId: me.id, resourceType: 'Session', outcome: 'SUCCESS' });
    });

    it('enrollMfa → MFA_ENROLL, confirmMfa → MFA_ENABLE, disableMfa → MFA_DISABLE, with the secret never stored', async () => {
      const me = await signedIn(server, Role.VIEWER);
      const { secret } = ok(await graphql(server.url, AuditedEnrollMfaDocument, {}, { token: me.token })).enrollMfa;
      expect(await entry(server, 'MFA_ENROLL', me.id)).toMatchObject({ actorId: me.id, resourceType: 'User' });
      ok(await graphql(server.url, AuditedConfirmMfaDocument, { otp: authenticator.generate(secret) }, { token: me.token }));
      expect(await entry(server, 'MFA_ENABLE', me.id)).toMatchObject({ actorId: me.id, changes: { after: { mfaEnabled: true } } });
      // A code is accepted once: disabling uses the next step's code (the window allows one step).
      const next = authenticator.clone({ epoch: Date.now() + 30_000 }).generate(secret);
      ok(await graphql(server.url, AuditedDisableMfaDocument, { otp: next }, { token: me.token }));
      expect(await entry(server, 'MFA_DISABLE', me.id)).toMatchObject({ actorId: me.id, changes: { after: { mfaEnabled: false } } });
      const all = JSON.stringify(await auditEntries(server, { resourceId: me.id }));
      expect(all).not.toContain(secret);
    });

    it('createUser → USER_CREATE and updateUser → USER_UPDATE, without the password', async () => {
      const password = 'Correct-horse-battery-9';
      const created = ok(
        await graphql(
          server.url,
          AuditedCreateUserDocument,
          { input: { email: `new-${Date.now()}@test.vigil`, name: 'New Analyst', password, role: 'ANALYST' } },
          { token: admin.token },
        ),
      ).createUser;
      const createdEntry = await entry(server, 'USER_CREATE', created.id);
      expect(createdEntry).toMatchObject({ actorId: admin.id, resourceType: 'User', outcome: 'SUCCESS' });
      expect(JSON.stringify(createdEntry.changes)).not.toContain(password);

      ok(await graphql(server.url, AuditedUpdateUserDocument, { id: created.id, input: { role: 'SENIOR_ANALYST' } }, { token: admin.token }));
      expect(await entry(server, 'USER_UPDATE', created.id)).toMatchObject({
        actorId: admin.id,
        changes: { before: { role: 'ANALYST' }, after: { role: 'SENIOR_ANALYST' } },
      });
    });
  });

  describe('investigations', () => {
    let investigationId: string;

    it('createInvestigation → INVESTIGATION_CREATE', async () => {
      const created = ok(
        await graphql(server.url, AuditedCreateInvestigationDocument, { input: { title: 'Audited case' } }, { token: investigator.token }),
      ).createInvestigation;
      investigationId = created.id;
      expect(await entry(server, 'INVESTIGATION_CREATE', created.id)).toMatchObject({
        actorId: investigator.id,
        actorRole: 'INVESTIGATOR',
        resourceType: 'Investigation',
        changes: { after: { title: 'Audited case' } },
      });
    });

    it('updateInvestigation → INVESTIGATION_UPDATE with before/after', async () => {
      ok(
        await graphql(
          server.url,
          AuditedUpdateInvestigationDocument,
          { id: investigationId, expectedVersion: 1, input: { title: 'Audited case, renamed' } },
          { token: investigator.token },
        ),
      );
      expect(await entry(server, 'INVESTIGATION_UPDATE', investigationId)).toMatchObject({
        actorId: investigator.id,
        changes: { before: { title: 'Audited case' }, after: { title: 'Audited case, renamed' } },
      });
    });

    it('addFinding → FINDING_ADD, with the subject fields masked', async () => {
      const finding = ok(
        await graphql(
          server.url,
          AuditedAddFindingDocument,
          { investigationId, input: { summary: 'Credential phishing', subjectEmail: 'victim@example.com', subjectIp: '203.0.113.9', subjectName: 'Vic Tim' } },
          { token: investigator.token },
        ),
      ).addFinding;
      const found = await entry(server, 'FINDING_ADD');
      expect(found).toMatchObject({ actorId: investigator.id });
      expect([found.resourceId, JSON.stringify(found.changes)].join(' ')).toContain(finding.id);
      const text = JSON.stringify(found.changes);
      expect(text).not.toContain('victim@example.com');
      expect(text).not.toContain('203.0.113.9');
      expect(text).not.toContain('Vic Tim');
    });

    it('addAction → ACTION_ADD and updateActionStatus → ACTION_STATUS_UPDATE', async () => {
      const action = ok(
        await graphql(server.url, AuditedAddActionDocument, { investigationId, input: { title: 'Reset password' } }, { token: investigator.token }),
      ).addAction;
      expect(await entry(server, 'ACTION_ADD')).toMatchObject({ actorId: investigator.id });
      ok(await graphql(server.url, AuditedUpdateActionStatusDocument, { id: action.id, status: 'APPROVED' }, { token: investigator.token }));
      const updated = await entry(server, 'ACTION_STATUS_UPDATE');
      expect(updated).toMatchObject({ actorId: investigator.id });
      expect(JSON.stringify(updated)).toContain('APPROVED');
    });

    it('addNote → NOTE_ADD', async () => {
      ok(await graphql(server.url, AuditedAddNoteDocument, { investigationId, body: 'Called the user' }, { token: investigator.token }));
      expect(await entry(server, 'NOTE_ADD')).toMatchObject({ actorId: investigator.id, outcome: 'SUCCESS' });
    });

    it('exportInvestigation → INVESTIGATION_EXPORT', async () => {
      ok(await graphql(server.url, AuditedExportInvestigationDocument, { id: investigationId, format: 'JSON' }, { token: investigator.token }));
      expect(await entry(server, 'INVESTIGATION_EXPORT', investigationId)).toMatchObject({ actorId: investigator.id });
    });

    it('deleteInvestigation → INVESTIGATION_DELETE', async () => {
      ok(await graphql(server.url, AuditedDeleteInvestigationDocument, { id: investigationId }, { token: investigator.token }));
      expect(await entry(server, 'INVESTIGATION_DELETE', investigationId)).toMatchObject({ actorId: investigator.id });
    });

    it('deleteInvestigationV2 → INVESTIGATION_DELETE', async () => {
      const { id } = ok(await graphql(server.url, AuditedCreateInvestigationDocument, { input: { title: 'Audited case, V2' } }, { token: investigator.token })).createInvestigation;
      const answer = ok(await graphql(server.url, AuditedDeleteInvestigationV2Document, { id }, { token: investigator.token }));
      expect(answer.deleteInvestigationV2.deletedId).toBe(id);
      expect(await entry(server, 'INVESTIGATION_DELETE', id)).toMatchObject({ actorId: investigator.id, resourceType: 'Investigation', outcome: 'SUCCESS' });
    });
  });

  describe('alerts', () => {
    let alertId: string;

    it('raiseAlert → ALERT_RAISE', async () => {
      alertId = ok(
        await graphql(server.url, AuditedRaiseAlertDocument, { input: { level: 'WARNING', title: 'Audited alert', fingerprint: `audited-${Date.now()}` } }, { token: admin.token }),
      ).raiseAlert.id;
      expect(await entry(server, 'ALERT_RAISE', alertId)).toMatchObject({ actorId: admin.id, resourceType: 'Alert' });
    });

    it('acknowledgeAlert → ALERT_ACKNOWLEDGE', async () => {
      ok(await graphql(server.url, AuditedAcknowledgeAlertDocument, { id: alertId }, { token: investigator.token }));
      expect(await entry(server, 'ALERT_ACKNOWLEDGE', alertId)).toMatchObject({ actorId: investigator.id });
    });

    it('openInvestigationFromAlert → ALERT_OPEN_INVESTIGATION', async () => {
      ok(await graphql(server.url, AuditedOpenInvestigationFromAlertDocument, { id: alertId }, { token: investigator.token }));
      expect(await entry(server, 'ALERT_OPEN_INVESTIGATION', alertId)).toMatchObject({ actorId: investigator.id });
    });

    it('resolveAlert → ALERT_RESOLVE', async () => {
      ok(await graphql(server.url, AuditedResolveAlertDocument, { id: alertId, resolution: 'false positive' }, { token: investigator.token }));
      expect(await entry(server, 'ALERT_RESOLVE', alertId)).toMatchObject({ actorId: investigator.id });
    });

    it('silenceAlerts → ALERT_SILENCE', async () => {
      ok(
        await graphql(
          server.url,
          AuditedSilenceAlertsDocument,
          { matcher: { source: 'audited-source' }, reason: 'maintenance', until: new Date(Date.now() + 3_600_000).toISOString() },
          { token: investigator.token },
        ),
      );
      expect(await entry(server, 'ALERT_SILENCE')).toMatchObject({ actorId: investigator.id, resourceType: 'AlertSilence' });
    });
  });

  describe('audit', () => {
    it('exportAuditLogs → AUDIT_EXPORT', async () => {
      const exported = ok(await graphql(server.url, ExportAuditLogsDocument, { filter: { action: 'LOGIN_SUCCESS' } }, { token: admin.token }));
      expect(await entry(server, 'AUDIT_EXPORT')).toMatchObject({
        actorId: admin.id,
        changes: { count: exported.exportAuditLogs.count, sha256: exported.exportAuditLogs.sha256 },
      });
    });
  });

  describe('backups', () => {
    let backupId: string;
    let superAdmin: Signed;

    beforeAll(async () => {
      superAdmin = await signedIn(server, Role.SUPER_ADMIN);
    });

    async function finished(id: string): Promise<string> {
      for (;;) {
        const [row] = await server.orm.em.fork().execute<{ status: string }[]>('select status from backup where id = ?', [id]);
        if (row && row.status !== 'RUNNING') return row.status;
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    it('createBackup → BACKUP_CREATE', async () => {
      backupId = ok(await graphql(server.url, AuditedCreateBackupDocument, { label: 'audited' }, { token: admin.token })).createBackup.id;
      expect(await entry(server, 'BACKUP_CREATE', backupId)).toMatchObject({ actorId: admin.id, resourceType: 'Backup' });
      expect(await finished(backupId)).toBe('SUCCEEDED');
    }, 120_000);

    it('verifyBackup → BACKUP_VERIFY', async () => {
      ok(await graphql(server.url, AuditedVerifyBackupDocument, { id: backupId }, { token: admin.token }));
      expect(await entry(server, 'BACKUP_VERIFY', backupId)).toMatchObject({ actorId: admin.id });
    }, 120_000);

    it('restoreBackup → BACKUP_RESTORE', async () => {
      ok(await graphql(server.url, AuditedRestoreBackupDocument, { id: backupId, confirm: backupId }, { token: superAdmin.token }));
      expect(await entry(server, 'BACKUP_RESTORE', backupId)).toMatchObject({ actorId: superAdmin.id, outcome: 'SUCCESS' });
    }, 120_000);

    it('deleteBackup → BACKUP_DELETE', async () => {
      ok(await graphql(server.url, AuditedDeleteBackupDocument, { id: backupId }, { token: superAdmin.token }));
      expect(await entry(server, 'BACKUP_DELETE', backupId)).toMatchObject({ actorId: superAdmin.id });
    });

    it('deleteBackupV2 → BACKUP_DELETE', async () => {
      const id = ok(await graphql(server.url, AuditedCreateBackupDocument, { label: 'audited, V2' }, { token: admin.token })).createBackup.id;
      expect(await finished(id)).toBe('SUCCEEDED');
      const answer = ok(await graphql(server.url, AuditedDeleteBackupV2Document, { id }, { token: superAdmin.token }));
      expect(answer.deleteBackupV2.deletedId).toBe(id);
      expect(await entry(server, 'BACKUP_DELETE', id)).toMatchObject({ actorId: superAdmin.id, resourceType: 'Backup', outcome: 'SUCCESS' });
    }, 120_000);
  });
});
