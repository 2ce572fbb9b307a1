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

      const next = await raise('after the restore');
      expect(Number(next.seq)).toBeGreaterThan(Number(lastSeen.seq));
      // Other alerts may come too (the settings area announces the maintenance window): read until
      // the alert raised after the restore, in seq order, on both instances.
      const readUntil = async (stream: typeof liveA, id: string) => {
        const seen: { id: string; seq: unknown; title: string }[] = [];
        while (!seen.some((x) => x.id === id) && seen.length < 20) {
          const event = await stream.next(15_000);
          expect(event.errors).toBeUndefined();
          seen.push(event.data!.alertRaised);
        }
        return seen;
      };
      const onAList = await readUntil(liveA, next.id);
      const onBList = await readUntil(liveB, next.id);
      expect(onBList.map((x) => x.id)).toEqual(onAList.map((x) => x.id));
      const seqs = onAList.map((x) => Number(x.seq));
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs.every((seq) => seq > Number(lastSeen.seq))).toBe(true);
      const restored = onAList.find((x) => x.title === 'The database was restored from a backup');
      expect(restored).toBeDefined();

      // Resuming from the alert the restore removed: served from where it stood, nothing before it again.
      const resumed = subscribe(onB, AlertRaisedDocument, { after: lastSeen.id });
      try {
        const replay = await readUntil(resumed, next.id);
        expect(replay.map((x) => x.id)).toContain(restored!.id);
        expect(replay.every((x) => Number(x.seq) > Number(lastSeen.seq))).toBe(true);
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
