import { Role } from '../../src/permissions/roles';
import { AlertRaisedDocument, RaiseAlertDocument } from '../generated/graphql';
import { QUIET_ENV, until } from '../alerts/helpers';
import { adminMeta } from '../backups/backup-helpers';
import { tokenFor } from '../helpers/auth';
import { graphql, subscribe, wsClient } from '../helpers/clients';
import { withClient } from '../helpers/postgres';
import { startTestServer, type TestServer } from '../helpers/server';

/**
 * A restore puts back an alert table from before alerts that subscribers already saw. Sequence
 * numbers must keep growing past every number handed out, live subscribers (on the restoring
 * instance and on another) must get the alerts raised afterwards (the "database was restored" one
 * first), and a subscriber resuming with an alert the restore removed must be served, not refused.
 */
describe('alert order across a restore', () => {
  let a: TestServer;
  let b: TestServer;
  let admin: string;
  let viewer: string;

  beforeAll(async () => {
    const env = { ...QUIET_ENV, VIGIL_BACKUP_KEEP_LAST: '0', VIGIL_BACKUP_SCHEDULE: 'off', VIGIL_BACKUP_DRILL_SCHEDULE: 'off' };
    a = await startTestServer({ env });
    b = await startTestServer({ database: a.database, redisPrefix: a.config.redisPrefix, env: { ...env, VIGIL_BACKUP_DIR: a.config.backups.dir } });
    admin = await tokenFor(a, Role.ADMIN);
    viewer = await tokenFor(b, Role.VIEWER);
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const raise = async (title: string) => {
    const res = await graphql(a.url, RaiseAlertDocument, { input: { level: 'WARNING', title, source: 'restore-test' } }, { token: admin });
    expect(res.errors).toBeUndefined();
    return res.data!.raiseAlert;
  };

  it('never reuses a seq; live and resuming subscribers get every alert raised after the restore', async () => {
    await raise('before the backup');
    const { done } = await a.services.backups.begin(adminMeta(), { label: 'alerts', trigger: 'MANUAL' as never });
    const backup = await done;
    expect(backup.status).toBe('SUCCEEDED');
    await raise('after the backup 1');
    const lastSeen = await raise('after the backup 2');

    const onA = wsClient(a.wsUrl, viewer);
    const onB = wsClient(b.wsUrl, viewer);
    const liveA = subscribe(onA, AlertRaisedDocument, {});
    const liveB = subscribe(onB, AlertRaisedDocument, {});
    try {
      await until(() => a.services.alerts.feed.subscriberCount === 1 && b.services.alerts.feed.subscriberCount === 1, 'both subscriptions');
      const result = await a.services.backups.restore(adminMeta(), backup.id, backup.id);
      expect(result).toMatchObject({ ok: true, databaseState: 'RESTORED' });
      // The alert the restore removed is gone, and numbering continues past it.
      const gone = await withClient(a.database.url, (c) => c.query('select 1 from alert where id = $1', [lastSeen.id]));
      expect(gone.rows).toEqual([]);

      const restored = (await liveA.next(15_000)).data!.alertRaised;
      expect(restored.title).toBe('The database was restored from a backup');
      expect(Number(restored.seq)).toBeGreaterThan(Number(lastSeen.seq));
      expect((await liveB.next(15_000)).data!.alertRaised.id).toBe(restored.id);

      const next = await raise('after the restore');
      expect(Number(next.seq)).toBeGreaterThan(Number(restored.seq));
      expect((await liveA.next()).data!.alertRaised.id).toBe(next.id);
      expect((await liveB.next()).data!.alertRaised.id).toBe(next.id);

      // Resuming from the alert the restore removed: served from where it stood, nothing before it again.
      const resumed = subscribe(onB, AlertRaisedDocument, { after: lastSeen.id });
      try {
        const first = await resumed.next();
        expect(first.errors).toBeUndefined();
        expect(first.data!.alertRaised.id).toBe(restored.id);
        expect((await resumed.next()).data!.alertRaised.id).toBe(next.id);
      } finally {
        await resumed.close();
      }
    } finally {
      await liveA.close();
      await liveB.close();
      await onA.dispose();
      await onB.dispose();
    }
  }, 120_000);
});
