import { Role } from '../../src/permissions/roles';
import { AlertRaisedDocument, RaiseAlertDocument, type AlertLevel } from '../generated/graphql';
import { tokenFor } from '../helpers/auth';
import { graphql, subscribe, wsClient } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';
import { QUIET_ENV, until } from './helpers';

describe('alerts across two gateway instances on one database and one Redis', () => {
  let a: TestServer;
  let b: TestServer;
  let adminOnB: string;
  let viewerOnA: string;

  beforeAll(async () => {
    a = await startTestServer({ env: QUIET_ENV });
    b = await startTestServer({ database: a.database, redisPrefix: a.config.redisPrefix, env: QUIET_ENV });
    adminOnB = await tokenFor(b, Role.ADMIN);
    viewerOnA = await tokenFor(a, Role.VIEWER);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  const raiseOnB = async (level: AlertLevel, title: string) => {
    const res = await graphql(b.url, RaiseAlertDocument, { input: { level, title, source: 'fanout-test' } }, { token: adminOnB });
    expect(res.errors).toBeUndefined();
    return res.data!.raiseAlert;
  };

  const subscribers = () => a.services.alerts.feed.subscriberCount;

  beforeEach(() => until(() => subscribers() === 0, 'the subscriptions of earlier tests to end'));

  it('delivers alerts raised through B, in order, to a subscriber on A; minLevel ERROR gets only ERROR and CRITICAL', async () => {
    const client = wsClient(a.wsUrl, viewerOnA);
    const before = 0;
    const all = subscribe(client, AlertRaisedDocument, {});
    const severe = subscribe(client, AlertRaisedDocument, { minLevel: 'ERROR' });
    try {
      await until(() => subscribers() === before + 2, 'both subscriptions to be registered on A');
      const levels: AlertLevel[] = ['INFO', 'WARNING', 'ERROR', 'INFO', 'CRITICAL', 'WARNING', 'ERROR'];
      const raised = [];
      for (const [i, level] of levels.entries()) raised.push(await raiseOnB(level, `fan-out ${i} ${level}`));

      const received = [];
      for (let i = 0; i < raised.length; i++) received.push((await all.next()).data!.alertRaised);
      expect(received.map((r) => r.id)).toEqual(raised.map((r) => r.id));
      const seqs = received.map((r) => Number(r.seq));
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));

      const expectedSevere = raised.filter((r) => r.level === 'ERROR' || r.level === 'CRITICAL');
      const severeReceived = [];
      for (let i = 0; i < expectedSevere.length; i++) severeReceived.push((await severe.next()).data!.alertRaised);
      expect(severeReceived.map((r) => r.id)).toEqual(expectedSevere.map((r) => r.id));
      expect(severeReceived.map((r) => r.level)).toEqual(['ERROR', 'CRITICAL', 'ERROR']);
    } finally {
      await all.close();
      await severe.close();
      await client.dispose();
    }
  });

  it('resumes with `after`: exactly the three missed alerts, then live ones, with no gap or duplicate', async () => {
    const first = wsClient(a.wsUrl, viewerOnA);
    const before = 0;
    const live = subscribe(first, AlertRaisedDocument, {});
    await until(() => subscribers() === before + 1, 'the subscription to be registered');
    const seen = await raiseOnB('WARNING', 'last one seen before the disconnect');
    expect((await live.next()).data!.alertRaised.id).toBe(seen.id);
    await live.close();
    await first.dispose();
    await until(() => subscribers() === before, 'the subscription to end');

    const missed = [await raiseOnB('INFO', 'missed 1'), await raiseOnB('ERROR', 'missed 2'), await raiseOnB('WARNING', 'missed 3')];

    const second = wsClient(a.wsUrl, viewerOnA);
    const resumed = subscribe(second, AlertRaisedDocument, { after: seen.id });
    try {
      const replayed = [];
      for (let i = 0; i < 3; i++) replayed.push((await resumed.next()).data!.alertRaised);
      expect(replayed.map((r) => r.id)).toEqual(missed.map((m) => m.id));
      await until(() => subscribers() === before + 1, 'the resumed subscription to be registered');
      const next = await raiseOnB('CRITICAL', 'live after the replay');
      expect((await resumed.next()).data!.alertRaised.id).toBe(next.id);
    } finally {
      await resumed.close();
      await second.dispose();
    }
  });

  it('refuses `after` naming no alert with BAD_USER_INPUT', async () => {
    const client = wsClient(a.wsUrl, viewerOnA);
    const events = subscribe(client, AlertRaisedDocument, { after: '00000000-0000-4000-8000-000000000000' });
    try {
      const res = await events.next();
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    } finally {
      await events.close();
      await client.dispose();
    }
  });

  it('refuses an anonymous alertRaised subscription with UNAUTHENTICATED', async () => {
    const client = wsClient(a.wsUrl);
    const events = subscribe(client, AlertRaisedDocument, {});
    try {
      const res = await events.next();
      expect(res.data ?? null).toBeNull();
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    } finally {
      await events.close();
      await client.dispose();
    }
  });
});
