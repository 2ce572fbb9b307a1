import { systemMeta } from '../../src/context';
import { AlertLevel } from '../../src/entities/alert.entity';
import { Role } from '../../src/permissions/roles';
import { HealthStatus } from '../../src/schema/enums';
import {
  AcknowledgeAlertDocument,
  AlertByIdDocument,
  AlertsDocument,
  AlertUpdatedDocument,
  OpenInvestigationFromAlertDocument,
  RaiseAlertDocument,
  ResolveAlertDocument,
  SilenceAlertsDocument,
} from '../generated/graphql';
import { auditEntries } from '../helpers/audit';
import { createUser, signIn, tokenFor } from '../helpers/auth';
import { graphql, subscribe, wsClient } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';
import { QUIET_ENV, until } from './helpers';

describe('alert lifecycle over HTTP', () => {
  let server: TestServer;
  let admin: string;
  let analyst: { id: string; token: string };
  let viewer: string;

  beforeAll(async () => {
    server = await startTestServer({ env: QUIET_ENV });
    admin = await tokenFor(server, Role.ADMIN);
    const user = await createUser(server, Role.ANALYST);
    analyst = { id: user.id, token: (await signIn(server, user.email, user.password)).accessToken };
    viewer = await tokenFor(server, Role.VIEWER);
  });
  afterAll(() => server?.close());

  const raise = async (input: { level: AlertLevel; title: string; source?: string; fingerprint?: string; labels?: unknown }, token = admin) =>
    graphql(server.url, RaiseAlertDocument, { input }, { token });

  it('counts a repeat of a fingerprint within the cooldown on the existing alert instead of creating one', async () => {
    const client = wsClient(server.wsUrl, viewer);
    const updates = subscribe(client, AlertUpdatedDocument);
    try {
      await until(() => server.services.alerts.feed.subscriberCount === 1, 'the alertUpdated subscription');
      const first = await raise({ level: AlertLevel.WARNING, title: 'disk filling up', source: 'dedup-test' });
      const again = await raise({ level: AlertLevel.ERROR, title: 'disk filling up', source: 'dedup-test' });
      expect(again.data!.raiseAlert.id).toBe(first.data!.raiseAlert.id);
      expect(again.data!.raiseAlert.count).toBe(2);
      expect(again.data!.raiseAlert.level).toBe('ERROR');
      expect(again.data!.raiseAlert.seq).toBe(first.data!.raiseAlert.seq);
      const pushed = await updates.next();
      expect(pushed.data!.alertUpdated).toMatchObject({ id: first.data!.raiseAlert.id, count: 2 });

      const other = await raise({ level: AlertLevel.WARNING, title: 'disk filling up', source: 'another-source' });
      expect(other.data!.raiseAlert.id).not.toBe(first.data!.raiseAlert.id);
      const explicit = await raise({ level: AlertLevel.INFO, title: 'a different title', source: 'dedup-test', fingerprint: first.data!.raiseAlert.fingerprint });
      expect(explicit.data!.raiseAlert).toMatchObject({ id: first.data!.raiseAlert.id, count: 3, level: 'ERROR' });
    } finally {
      await updates.close();
      await client.dispose();
    }
  });

  it('folds concurrent raises of one fingerprint into one alert, and gives concurrent new alerts consecutive seqs', async () => {
    const meta = systemMeta('test');
    const repeats = await Promise.all(
      Array.from({ length: 12 }, () => server.services.alerts.raise(meta, { level: AlertLevel.WARNING, title: 'raced', source: 'race-test' })),
    );
    expect(new Set(repeats.map((r) => r.alert.id)).size).toBe(1);
    expect(repeats.filter((r) => r.created)).toHaveLength(1);
    expect((await server.services.alerts.get(server.orm.em.fork(), repeats[0]!.alert.id))!.count).toBe(12);

    const distinct = await Promise.all(
      Array.from({ length: 12 }, (_, i) => server.services.alerts.raise(meta, { level: AlertLevel.INFO, title: `distinct ${i}`, source: 'race-test' })),
    );
    const seqs = distinct.map((r) => r.alert.seq).sort((x, y) => x - y);
    expect(seqs).toEqual(Array.from({ length: 12 }, (_, i) => seqs[0]! + i));
  });

  it('starts a new alert for a fingerprint whose alert was resolved', async () => {
    const first = await raise({ level: AlertLevel.ERROR, title: 'flapping service', source: 'dedup-test' });
    const id = first.data!.raiseAlert.id;
    await graphql(server.url, ResolveAlertDocument, { id, resolution: 'restarted' }, { token: analyst.token });
    const again = await raise({ level: AlertLevel.ERROR, title: 'flapping service', source: 'dedup-test' });
    expect(again.data!.raiseAlert.id).not.toBe(id);
    expect(again.data!.raiseAlert.count).toBe(1);
  });

  it('lets only ADMIN_ACCESS raise, and refuses bad input with BAD_USER_INPUT', async () => {
    const denied = await raise({ level: AlertLevel.INFO, title: 'not mine to raise' }, analyst.token);
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await graphql(server.url, RaiseAlertDocument, { input: { level: 'INFO', title: 'x' } });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const empty = await raise({ level: AlertLevel.INFO, title: '   ' });
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'title' });
    const labels = await raise({ level: AlertLevel.INFO, title: 'labels as a list', labels: [1, 2] });
    expect(labels.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'labels' });
  });

  it('acknowledges and resolves with MODIFY_INVESTIGATIONS only, recording who and an audit entry for each', async () => {
    const raised = await raise({ level: AlertLevel.ERROR, title: 'ack and resolve', source: 'perm-test' });
    const id = raised.data!.raiseAlert.id;

    const byViewer = await graphql(server.url, AcknowledgeAlertDocument, { id }, { token: viewer });
    expect(byViewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const byNobody = await graphql(server.url, ResolveAlertDocument, { id });
    expect(byNobody.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const acked = await graphql(server.url, AcknowledgeAlertDocument, { id }, { token: analyst.token });
    expect(acked.errors).toBeUndefined();
    expect(acked.data!.acknowledgeAlert).toMatchObject({ status: 'ACKNOWLEDGED', acknowledgedBy: { id: analyst.id } });
    const twice = await graphql(server.url, AcknowledgeAlertDocument, { id }, { token: analyst.token });
    expect(twice.errors?.[0]?.extensions?.code).toBe('CONFLICT');

    const resolvedByViewer = await graphql(server.url, ResolveAlertDocument, { id, resolution: 'no' }, { token: viewer });
    expect(resolvedByViewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const resolved = await graphql(server.url, ResolveAlertDocument, { id, resolution: 'rolled back the deploy' }, { token: analyst.token });
    expect(resolved.data!.resolveAlert).toMatchObject({ status: 'RESOLVED', resolution: 'rolled back the deploy', resolvedBy: { id: analyst.id } });

    const [ack] = await auditEntries(server, { action: 'ALERT_ACKNOWLEDGE', resourceId: id });
    expect(ack).toMatchObject({ actorId: analyst.id, outcome: 'SUCCESS', changes: { before: { status: 'ACTIVE' }, after: { status: 'ACKNOWLEDGED' } } });
    const [res] = await auditEntries(server, { action: 'ALERT_RESOLVE', resourceId: id });
    expect(res).toMatchObject({ actorId: analyst.id, changes: { after: { status: 'RESOLVED' } } });

    const unknown = await graphql(server.url, AcknowledgeAlertDocument, { id: '00000000-0000-4000-8000-000000000000' }, { token: analyst.token });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('lists alerts newest first with filters and cursors, for any signed-in user', async () => {
    const source = `list-test-${Date.now()}`;
    for (const [i, level] of [AlertLevel.INFO, AlertLevel.ERROR, AlertLevel.ERROR, AlertLevel.CRITICAL].entries()) {
      await raise({ level, title: `listed ${i}`, source });
    }
    const page1 = await graphql(server.url, AlertsDocument, { first: 2, filter: { source } }, { token: viewer });
    expect(page1.data!.alerts!.totalCount).toBe(4);
    expect(page1.data!.alerts!.edges.map((e) => e.node.title)).toEqual(['listed 3', 'listed 2']);
    expect(page1.data!.alerts!.pageInfo.hasNextPage).toBe(true);
    const page2 = await graphql(server.url, AlertsDocument, { first: 2, after: page1.data!.alerts!.pageInfo.endCursor, filter: { source } }, { token: viewer });
    expect(page2.data!.alerts!.edges.map((e) => e.node.title)).toEqual(['listed 1', 'listed 0']);
    expect(page2.data!.alerts!.pageInfo.hasNextPage).toBe(false);
    // Past the last one: no rows, and the total still counts the filter's matches.
    const page3 = await graphql(server.url, AlertsDocument, { first: 2, after: page2.data!.alerts!.pageInfo.endCursor, filter: { source } }, { token: viewer });
    expect(page3.data!.alerts!.edges).toEqual([]);
    expect(page3.data!.alerts!.totalCount).toBe(4);

    const errors = await graphql(server.url, AlertsDocument, { filter: { source, level: 'ERROR', status: 'ACTIVE' } }, { token: viewer });
    expect(errors.data!.alerts!.totalCount).toBe(2);
    const future = await graphql(server.url, AlertsDocument, { filter: { source, from: new Date(Date.now() + 3600_000).toISOString() } }, { token: viewer });
    expect(future.data!.alerts!.totalCount).toBe(0);

    const anonymous = await graphql(server.url, AlertsDocument, {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const badCursor = await graphql(server.url, AlertsDocument, { after: 'nonsense' }, { token: viewer });
    expect(badCursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const forgedId = Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000Z', 'not-a-uuid'])).toString('base64url');
    const forged = await graphql(server.url, AlertsDocument, { after: forgedId }, { token: viewer });
    expect(forged.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const tooMany = await graphql(server.url, AlertsDocument, { first: 101 }, { token: viewer });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const one = await graphql(server.url, AlertByIdDocument, { id: page1.data!.alerts!.edges[0]!.node.id }, { token: viewer });
    expect(one.data!.alert).toMatchObject({ title: 'listed 3', level: 'CRITICAL', source });
  });

  it('opens one investigation from an alert, linked both ways', async () => {
    const raised = await raise({ level: AlertLevel.CRITICAL, title: 'suspicious sign-ins', source: 'link-test' });
    const id = raised.data!.raiseAlert.id;
    const byViewer = await graphql(server.url, OpenInvestigationFromAlertDocument, { id }, { token: viewer });
    expect(byViewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const opened = await graphql(server.url, OpenInvestigationFromAlertDocument, { id }, { token: analyst.token });
    expect(opened.errors).toBeUndefined();
    expect(opened.data!.openInvestigationFromAlert).toMatchObject({ trigger: `alert:${id}`, riskLevel: 'CRITICAL' });
    const alert = await graphql(server.url, AlertByIdDocument, { id }, { token: viewer });
    expect(alert.data!.alert!.investigationId).toBe(opened.data!.openInvestigationFromAlert.id);
    const again = await graphql(server.url, OpenInvestigationFromAlertDocument, { id }, { token: analyst.token });
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('refuses a silence without a matcher or with a past end', async () => {
    const empty = await graphql(server.url, SilenceAlertsDocument, { matcher: {} }, { token: analyst.token });
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'matcher' });
    const past = await graphql(server.url, SilenceAlertsDocument, { matcher: { source: 'x' }, until: new Date(Date.now() - 1000).toISOString() }, { token: analyst.token });
    expect(past.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'until' });
    const byViewer = await graphql(server.url, SilenceAlertsDocument, { matcher: { source: 'x' } }, { token: viewer });
    expect(byViewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('raises alerts for security events: a lockout, refresh-token reuse, and repeated denials from one actor', async () => {
    const actorId = '11111111-1111-4111-8111-111111111111';
    const lockedId = '22222222-2222-4222-8222-222222222222';
    await server.services.audit.recordSecurityEvent({ ...systemMeta('test'), ip: '203.0.113.8' }, { action: 'ACCOUNT_LOCKED', outcome: 'DENIED', resourceType: 'User', resourceId: lockedId });
    await server.services.audit.recordSecurityEvent({ ...systemMeta('test'), ip: '203.0.113.9' }, { action: 'REFRESH_TOKEN_REUSE', outcome: 'DENIED', resourceType: 'User', resourceId: actorId });
    for (let i = 0; i < server.config.alerts.denialsThreshold; i++) {
      await server.services.audit.recordSecurityEvent(
        { ...systemMeta('test'), actor: { id: actorId, email: 'x@test.vigil', role: Role.VIEWER } },
        { action: 'PERMISSION_DENIED', outcome: 'DENIED', reason: `attempt ${i}` },
      );
    }
    const find = () => server.services.alerts.list(server.orm.em.fork(), { filter: { source: 'security' } });
    await until(async () => (await find()).edges.length >= 3, 'the security alerts');
    const alerts = (await find()).edges.map((e) => e.node);
    expect(alerts.find((a) => a.fingerprint === `security:refresh-reuse:${actorId}`)).toMatchObject({ level: 'CRITICAL' });
    expect(alerts.find((a) => a.fingerprint === `security:denials:${actorId}`)).toMatchObject({ level: 'WARNING', count: 1 });
    expect(alerts.find((a) => a.fingerprint === `security:lockout:${lockedId}`)).toMatchObject({ level: 'WARNING' });
  });
});

describe('health alerts', () => {
  let server: TestServer;
  let status: HealthStatus = HealthStatus.UP;

  beforeAll(async () => {
    server = await startTestServer({ env: { VIGIL_HEALTH_INTERVAL_MS: '100', VIGIL_HEALTH_CACHE_MS: '0' } });
    server.services.health.addCheck({ name: 'probe', critical: false, run: async () => ({ status, detail: status === HealthStatus.UP ? undefined : 'no answer' }) });
  });
  afterAll(() => server?.close());

  it('raises one alert when a component goes DEGRADED then DOWN, and resolves it when the component is UP again', async () => {
    const find = async () => {
      const page = await server.services.alerts.list(server.orm.em.fork(), { filter: { source: 'health' }, first: 100 });
      return page.edges.map((e) => e.node).filter((a) => a.fingerprint === 'health:probe');
    };
    status = HealthStatus.DEGRADED;
    await until(async () => (await find()).length === 1, 'the DEGRADED alert');
    expect((await find())[0]).toMatchObject({ level: 'WARNING', status: 'ACTIVE', count: 1 });

    status = HealthStatus.DOWN;
    await until(async () => (await find())[0]?.count === 2, 'the DOWN repeat');
    expect(await find()).toEqual([expect.objectContaining({ level: 'ERROR', status: 'ACTIVE' })]);

    status = HealthStatus.UP;
    await until(async () => (await find())[0]?.status === 'RESOLVED', 'the recovery to resolve the alert');
    expect((await find())[0]).toMatchObject({ resolution: 'probe recovered', resolvedById: null });
  });
});

describe('escalation', () => {
  let server: TestServer;
  let admin: string;
  let analyst: string;

  beforeAll(async () => {
    server = await startTestServer({ env: { ...QUIET_ENV, VIGIL_ALERT_ESCALATION_SECONDS: '1', VIGIL_ALERT_ESCALATION_CHECK_MS: '200' } });
    admin = await tokenFor(server, Role.ADMIN);
    analyst = await tokenFor(server, Role.ANALYST);
  });
  afterAll(() => server?.close());

  it('escalates an unacknowledged ERROR alert past the delay and pushes it again; not WARNING, not acknowledged ones', async () => {
    const raise = (level: AlertLevel, title: string) => graphql(server.url, RaiseAlertDocument, { input: { level, title, source: 'escalation-test' } }, { token: admin });
    const warning = (await raise(AlertLevel.WARNING, 'only a warning')).data!.raiseAlert;
    const acknowledged = (await raise(AlertLevel.CRITICAL, 'someone is on it')).data!.raiseAlert;
    await graphql(server.url, AcknowledgeAlertDocument, { id: acknowledged.id }, { token: analyst });

    const client = wsClient(server.wsUrl, analyst);
    const updates = subscribe(client, AlertUpdatedDocument);
    try {
      await until(() => server.services.alerts.feed.subscriberCount === 1, 'the alertUpdated subscription');
      const error = (await raise(AlertLevel.ERROR, 'nobody looked at this')).data!.raiseAlert;
      let pushed = (await updates.next()).data!.alertUpdated;
      while (pushed.id !== error.id) pushed = (await updates.next()).data!.alertUpdated;
      expect(pushed).toMatchObject({ id: error.id, status: 'ACTIVE', escalationLevel: 1 });

      const em = server.orm.em.fork();
      expect((await server.services.alerts.get(em, warning.id))!.escalationLevel).toBe(0);
      expect((await server.services.alerts.get(em, acknowledged.id))!.escalationLevel).toBe(0);
      const [entry] = await auditEntries(server, { action: 'ALERT_ESCALATE', resourceId: error.id });
      expect(entry).toMatchObject({ actorId: null, changes: { before: { escalationLevel: 0 }, after: { escalationLevel: 1 } } });
    } finally {
      await updates.close();
      await client.dispose();
    }
  });
});
