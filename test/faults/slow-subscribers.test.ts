import { randomUUID } from 'node:crypto';
import { systemMeta } from '../../src/context';
import { AlertLevel } from '../../src/entities/alert.entity';
import { Role } from '../../src/permissions/roles';
import { HealthStatus } from '../../src/schema/enums';
import { BackupStatus } from '../../src/schema/backup.enums';
import { RiskLevel } from '../../src/schema/investigation.enums';
import { BACKUP_EVENTS } from '../../src/services/backups/backup.service';
import { INVESTIGATION_UPDATED } from '../../src/services/investigations/investigation.types';
import { tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { withClient } from '../helpers/postgres';
import { startTestServer, type TestServer } from '../helpers/server';
import { updateSettings } from '../settings/helpers';
import { aliased, rawSubscriber, turn, until, type RawSubscriber } from './helpers';

const EVENTS = 2000;
const MAX_QUEUE = 50;
const BIG = 'x'.repeat(10_000);

/**
 * Every subscription source has a bounded queue: a client that stops reading while 2,000 events
 * are published to it is closed with 4008, nothing throws inside a listener (an uncaught
 * exception fails the test run), and the gateway keeps answering.
 */
describe('a subscriber that never reads', () => {
  let server: TestServer;
  let admin: string;

  beforeAll(async () => {
    server = await startTestServer({
      env: { VIGIL_HEALTH_INTERVAL_MS: '0', VIGIL_HEALTH_CACHE_MS: '0', VIGIL_WS_MAX_QUEUE: String(MAX_QUEUE), VIGIL_MAX_ALIASES: '100' },
    });
    admin = await tokenFor(server, Role.ADMIN);
  });
  afterAll(() => server?.close());

  /** Waits for the first event, stops reading, publishes up to EVENTS more until the cut, and expects 4008. */
  async function floodAndExpectCut(subscriber: RawSubscriber, publish: (i: number) => Promise<unknown> | void, alreadyPublished = 0): Promise<void> {
    await until(() => subscriber.messages.some((m) => m.type === 'next'), 'the first event');
    subscriber.socket.pause();
    const cuts = () => server.services.metrics.wsSlowSubscribers.get().then((m) => m.values[0]?.value ?? 0);
    const before = await cuts();
    // Events announced before the first one arrived are queued too: they count toward the cut.
    let published = alreadyPublished;
    // Up to EVENTS events; once the cut is seen the rest would reach nobody.
    while (published < EVENTS && (await cuts()) === before) {
      await publish(published++);
      if (published % 25 === 0) await turn();
    }
    await until(async () => (await cuts()) > before, 'the slow subscriber to be cut');
    // Reading again only so that the close frame queued behind the unread events arrives.
    subscriber.socket.resume();
    expect(await subscriber.closed).toEqual({ code: 4008, reason: 'subscriber too slow' });
    expect(published).toBeGreaterThan(MAX_QUEUE);
    // Still serving.
    const res = await graphql<{ health: { status: string } }>(server.url, '{ health { status } }', {});
    expect(res.errors).toBeUndefined();
    expect(res.data?.health.status).toBeDefined();
  }

  it('is closed with 4008 on alertRaised', async () => {
    const subscriber = await rawSubscriber(server.wsUrl, admin, `subscription { alertRaised { id ${aliased('message', 25)} } }`);
    const raise = (i: number) => server.services.alerts.raise(systemMeta('test'), { level: AlertLevel.INFO, title: `flood ${i}`, message: BIG, source: 'flood' });
    await until(() => server.services.alerts.feed.subscriberCount === 1, 'the subscription');
    await raise(-1);
    await floodAndExpectCut(subscriber, raise);
  }, 180_000);

  it('applies a lowered queue limit to subscriptions already open (a runtime setting)', async () => {
    const superAdmin = await tokenFor(server, Role.SUPER_ADMIN);
    const setQueue = async (wsMaxQueue: number | null) => {
      const res = await updateSettings(server.url, superAdmin, { protection: { wsMaxQueue } });
      expect(res.errors).toBeUndefined();
    };
    await setQueue(100_000);
    try {
      const subscriber = await rawSubscriber(server.wsUrl, admin, `subscription { alertRaised { id ${aliased('message', 25)} } }`);
      const raise = (i: number) => server.services.alerts.raise(systemMeta('test'), { level: AlertLevel.INFO, title: `live limit ${i}`, message: BIG, source: 'flood' });
      await until(() => server.services.alerts.feed.subscriberCount === 1, 'the subscription');
      await raise(-1);
      // Lowered while the subscription is open: with the limit it opened under, it would never be cut.
      await setQueue(MAX_QUEUE);
      await floodAndExpectCut(subscriber, raise);
    } finally {
      await setQueue(null);
    }
  }, 180_000);

  it('is closed with 4008 on investigationUpdated', async () => {
    const created = await graphql<{ createInvestigation: { id: string } }>(
      server.url,
      'mutation ($input: CreateInvestigationInput!) { createInvestigation(input: $input) { id } }',
      { input: { title: 'watched', description: BIG.slice(0, 5000), riskLevel: RiskLevel.LOW } },
      { token: admin },
    );
    const investigation = created.data!.createInvestigation;
    const subscriber = await rawSubscriber(server.wsUrl, admin, `subscription ($id: ID!) { investigationUpdated(id: $id) { id ${aliased('description', 50)} } }`, {
      id: investigation.id,
    });
    const publish = () => server.pubsub.publish(INVESTIGATION_UPDATED, investigation.id, { id: investigation.id, change: 'UPDATED' });
    // The Redis channel is subscribed asynchronously: announce until the first event arrives.
    let announced = 0;
    await until(() => {
      publish();
      announced++;
      return subscriber.messages.some((m) => m.type === 'next');
    }, 'the first investigation event');
    await floodAndExpectCut(subscriber, publish, announced);
  }, 180_000);

  it('is closed with 4008 on backupProgress', async () => {
    const id = randomUUID();
    await withClient(server.database.url, (c) => c.query(`insert into backup (id, status, trigger) values ($1, 'RUNNING', 'MANUAL')`, [id]));
    try {
      const subscriber = await rawSubscriber(server.wsUrl, admin, `subscription ($id: ID!) { backupProgress(id: $id) { id ${aliased('error', 25)} } }`, { id });
      const publish = (i: number) =>
        server.pubsub.publish(BACKUP_EVENTS.PROGRESS, id, { id, phase: 'DUMPING', bytesWritten: i, status: BackupStatus.RUNNING, error: BIG });
      await floodAndExpectCut(subscriber, publish);
    } finally {
      await withClient(server.database.url, (c) => c.query(`update backup set status = 'FAILED', finished_at = now() where id = $1`, [id]));
    }
  }, 180_000);

  it('is closed with 4008 on healthChanged', async () => {
    let flip = false;
    server.services.health.addCheck({
      name: 'flapping',
      critical: false,
      run: async () => {
        flip = !flip;
        return { status: flip ? HealthStatus.DEGRADED : HealthStatus.UP, detail: BIG };
      },
    });
    const subscriber = await rawSubscriber(server.wsUrl, admin, `subscription { healthChanged { status ${aliased('components { detail }', 25)} } }`);
    await server.services.health.refresh();
    await floodAndExpectCut(subscriber, () => server.services.health.refresh());
  }, 180_000);
});
