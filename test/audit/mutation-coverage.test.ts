import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildTypeSchema } from '../../src/schema/build';

/**
 * Which test asserts the audit entry of each mutation: the file that runs the mutation and reads
 * its entry, and the action that entry carries. A mutation added to the schema without a row here
 * fails this test, so it cannot ship without a test of its audit entry.
 */
const AUDITED_MUTATIONS: Record<string, { file: string; action: string }> = {
  login: { file: 'test/audit/mutation-audit.test.ts', action: 'LOGIN_SUCCESS' },
  refreshSession: { file: 'test/audit/mutation-audit.test.ts', action: 'SESSION_REFRESH' },
  logout: { file: 'test/audit/mutation-audit.test.ts', action: 'LOGOUT' },
  revokeSession: { file: 'test/audit/mutation-audit.test.ts', action: 'SESSION_REVOKE' },
  revokeSessionV2: { file: 'test/audit/mutation-audit.test.ts', action: 'SESSION_REVOKE' },
  enrollMfa: { file: 'test/audit/mutation-audit.test.ts', action: 'MFA_ENROLL' },
  confirmMfa: { file: 'test/audit/mutation-audit.test.ts', action: 'MFA_ENABLE' },
  disableMfa: { file: 'test/audit/mutation-audit.test.ts', action: 'MFA_DISABLE' },
  confirmMfaWithRecoveryCodes: { file: 'test/identity/recovery.test.ts', action: 'MFA_ENABLE' },
  regenerateRecoveryCodes: { file: 'test/identity/recovery.test.ts', action: 'MFA_RECOVERY_CODES_REGENERATED' },
  resetUserMfa: { file: 'test/identity/recovery.test.ts', action: 'MFA_RESET' },
  createUser: { file: 'test/audit/mutation-audit.test.ts', action: 'USER_CREATE' },
  updateUser: { file: 'test/audit/mutation-audit.test.ts', action: 'USER_UPDATE' },
  createInvestigation: { file: 'test/audit/mutation-audit.test.ts', action: 'INVESTIGATION_CREATE' },
  updateInvestigation: { file: 'test/audit/mutation-audit.test.ts', action: 'INVESTIGATION_UPDATE' },
  deleteInvestigation: { file: 'test/audit/mutation-audit.test.ts', action: 'INVESTIGATION_DELETE' },
  deleteInvestigationV2: { file: 'test/audit/mutation-audit.test.ts', action: 'INVESTIGATION_DELETE' },
  addFinding: { file: 'test/audit/mutation-audit.test.ts', action: 'FINDING_ADD' },
  addAction: { file: 'test/audit/mutation-audit.test.ts', action: 'ACTION_ADD' },
  updateActionStatus: { file: 'test/audit/mutation-audit.test.ts', action: 'ACTION_STATUS_UPDATE' },
  addNote: { file: 'test/audit/mutation-audit.test.ts', action: 'NOTE_ADD' },
  exportInvestigation: { file: 'test/audit/mutation-audit.test.ts', action: 'INVESTIGATION_EXPORT' },
  exportAuditLogs: { file: 'test/audit/mutation-audit.test.ts', action: 'AUDIT_EXPORT' },
  raiseAlert: { file: 'test/audit/mutation-audit.test.ts', action: 'ALERT_RAISE' },
  acknowledgeAlert: { file: 'test/audit/mutation-audit.test.ts', action: 'ALERT_ACKNOWLEDGE' },
  resolveAlert: { file: 'test/audit/mutation-audit.test.ts', action: 'ALERT_RESOLVE' },
  silenceAlerts: { file: 'test/audit/mutation-audit.test.ts', action: 'ALERT_SILENCE' },
  openInvestigationFromAlert: { file: 'test/audit/mutation-audit.test.ts', action: 'ALERT_OPEN_INVESTIGATION' },
  createBackup: { file: 'test/audit/mutation-audit.test.ts', action: 'BACKUP_CREATE' },
  verifyBackup: { file: 'test/audit/mutation-audit.test.ts', action: 'BACKUP_VERIFY' },
  restoreBackup: { file: 'test/audit/mutation-audit.test.ts', action: 'BACKUP_RESTORE' },
  deleteBackup: { file: 'test/audit/mutation-audit.test.ts', action: 'BACKUP_DELETE' },
  deleteBackupV2: { file: 'test/audit/mutation-audit.test.ts', action: 'BACKUP_DELETE' },
  updateSystemSettings: { file: 'test/settings/settings-api.test.ts', action: 'SYSTEM_SETTINGS_UPDATE' },
};

/** Ways a test reads committed audit entries. */
const READS_AUDIT = /auditEntries\(|lastAuditEntry\(|from audit_log/;

const root = path.resolve(__dirname, '../..');

describe('audit coverage of the schema', () => {
  let mutations: string[];
  beforeAll(async () => {
    const schema = await buildTypeSchema();
    mutations = Object.keys(schema.getMutationType()?.getFields() ?? {}).sort();
  });

  it('should name, for every mutation of the schema, the test that asserts its audit entry', () => {
    const missing = mutations.filter((name) => !AUDITED_MUTATIONS[name]);
    expect(missing).toEqual([]);
  });

  it('should list only mutations that exist', () => {
    expect(Object.keys(AUDITED_MUTATIONS).filter((name) => !mutations.includes(name))).toEqual([]);
  });

  it.each(Object.entries(AUDITED_MUTATIONS))('%s: its test file runs it and asserts its entry', (name, { file, action }) => {
    const source = readFileSync(path.join(root, file), 'utf8');
    expect(source).toMatch(READS_AUDIT);
    expect(source.toLowerCase()).toContain(name.toLowerCase());
    expect(source).toContain(`'${action}'`);
  });
});
