import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { AlertDelivery } from '../../src/entities/alert-delivery.entity';
import { AlertLevel } from '../../src/entities/alert.entity';
import { Role } from '../../src/permissions/roles';
import { verifyWebhookSignature } from '../../src/services/alerts/alert-channels';
import { RaiseAlertDocument, ResolveAlertDocument, SilenceAlertsDocument } from '../generated/graphql';
import { tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';
import { QUIET_ENV, until } from './helpers';

const SECRET = 'webhook-secret-for-tests-0123456789';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver that answers the first `failFirst` requests with 500, the rest with 204. */
async function startReceiver(failFirst: number): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = received.length <= failFirst ? 500 : 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, server };
}

async function deliveriesOf(server: TestServer, alertId: string): Promise<AlertDelivery[]> {
  return server.orm.em.fork().find(AlertDelivery, { alertId }, { orderBy: { createdAt: 'asc' } });
}

describe('webhook delivery', () => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let admin: string;

  beforeAll(async () => {
    receiver = await startReceiver(2);
    server = await startTestServer({
      env: {
        ...QUIET_ENV,
        VIGIL_ALERT_WEBHOOK_URL: receiver.url,
        VIGIL_ALERT_WEBHOOK_SECRET: SECRET,
        VIGIL_ALERT_WEBHOOK_MIN_LEVEL: 'WARNING',
        VIGIL_ALERT_DELIVERY_BACKOFF_MS: '20',
        VIGIL_ALERT_DELIVERY_MAX_ATTEMPTS: '4',
      },
    });
    admin = await tokenFor(server, Role.ADMIN);
  });
  afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => receiver?.server.close(resolve));
  });

  const raise = (level: AlertLevel, title: string, source = 'webhook-test') =>
    graphql(server.url, RaiseAlertDocument, { input: { level, title, source, labels: { team: 'ops' } } }, { token: admin });

  it('signs the JSON body with HMAC-SHA256 and retries until the receiver accepts, keeping attempts and the last error', async () => {
    const raised = (await raise(AlertLevel.ERROR, 'webhook me')).data!.raiseAlert;
    await server.services.alerts.deliverer.idle();

    expect(receiver.received).toHaveLength(3);
    for (const request of receiver.received) {
      const timestamp = String(request.headers['x-vigil-timestamp']);
      const signature = String(request.headers['x-vigil-signature']);
      expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(verifyWebhookSignature(SECRET, timestamp, request.body, signature)).toBe(true);
      expect(verifyWebhookSignature(SECRET, timestamp, `${request.body} `, signature)).toBe(false);
      expect(request.headers['content-type']).toBe('application/json');
    }
    const body = JSON.parse(receiver.received[2]!.body);
    expect(body).toMatchObject({ event: 'RAISED', alert: { id: raised.id, level: 'ERROR', title: 'webhook me', labels: { team: 'ops' } } });

    const [delivery] = await deliveriesOf(server, raised.id);
    expect(delivery).toMatchObject({ channel: 'webhook', status: 'DELIVERED', attempts: 3, lastError: expect.stringContaining('HTTP 500') });
  });

  it('does not send alerts below the channel’s minimum level', async () => {
    const before = receiver.received.length;
    const raised = (await raise(AlertLevel.INFO, 'too small for the webhook')).data!.raiseAlert;
    await server.services.alerts.deliverer.idle();
    expect(receiver.received).toHaveLength(before);
    expect(await deliveriesOf(server, raised.id)).toEqual([]);
  });

  it('mutes delivery of alerts matching a silence until a matching alert resolves, while still recording them', async () => {
    const analyst = await tokenFor(server, Role.ANALYST);
    const silenced = await graphql(server.url, SilenceAlertsDocument, { matcher: { source: 'noisy', labels: { team: 'ops' } }, reason: 'maintenance' }, { token: analyst });
    expect(silenced.data!.silenceAlerts).toMatchObject({ source: 'noisy', until: null, endedAt: null });

    const before = receiver.received.length;
    const muted = (await raise(AlertLevel.CRITICAL, 'muted while silenced', 'noisy')).data!.raiseAlert;
    await server.services.alerts.deliverer.idle();
    expect(receiver.received).toHaveLength(before);
    expect(await deliveriesOf(server, muted.id)).toEqual([expect.objectContaining({ channel: 'webhook', status: 'SILENCED', attempts: 0 })]);

    await graphql(server.url, ResolveAlertDocument, { id: muted.id }, { token: analyst });
    const loud = (await raise(AlertLevel.CRITICAL, 'after the silence ended', 'noisy')).data!.raiseAlert;
    await server.services.alerts.deliverer.idle();
    expect(receiver.received).toHaveLength(before + 1);
    expect(JSON.parse(receiver.received.at(-1)!.body).alert.id).toBe(loud.id);
  });
});

describe('a failing webhook', () => {
  it('gives up after the configured attempts with the last error recorded, never holding up raising', async () => {
    const receiver = await startReceiver(Number.MAX_SAFE_INTEGER);
    const server = await startTestServer({ env: { ...QUIET_ENV, VIGIL_ALERT_WEBHOOK_URL: receiver.url, VIGIL_ALERT_DELIVERY_BACKOFF_MS: '20', VIGIL_ALERT_DELIVERY_MAX_ATTEMPTS: '3' },
    });
    try {
      const admin = await tokenFor(server, Role.ADMIN);
      const res = await graphql(server.url, RaiseAlertDocument, { input: { level: 'CRITICAL', title: 'nobody listens' } }, { token: admin });
      expect(res.data!.raiseAlert.status).toBe('ACTIVE');
      await server.services.alerts.deliverer.idle();
      expect(receiver.received).toHaveLength(3);
      const [delivery] = await deliveriesOf(server, res.data!.raiseAlert.id);
      expect(delivery).toMatchObject({ status: 'FAILED', attempts: 3, lastError: expect.stringContaining('HTTP 500') });
      expect(receiver.received[0]!.headers['x-vigil-signature']).toBeUndefined();
    } finally {
      await server.close();
      await new Promise((resolve) => receiver.server.close(resolve));
    }
  });
});

describe('Slack delivery', () => {
  it('posts a Slack-format message for alerts at or above its level, and again when one escalates', async () => {
    const slack = await startReceiver(0);
    const server = await startTestServer({
      env: {
        ...QUIET_ENV,
        VIGIL_ALERT_SLACK_WEBHOOK_URL: slack.url,
        VIGIL_ALERT_SLACK_MIN_LEVEL: 'ERROR',
        VIGIL_ALERT_ESCALATION_SECONDS: '1',
        VIGIL_ALERT_ESCALATION_CHECK_MS: '200',
      },
    });
    try {
      const admin = await tokenFor(server, Role.ADMIN);
      await graphql(server.url, RaiseAlertDocument, { input: { level: 'WARNING', title: 'below Slack' } }, { token: admin });
      const res = await graphql(server.url, RaiseAlertDocument, { input: { level: 'ERROR', title: 'queue backed up', message: '12k jobs waiting' } }, { token: admin });
      const id = res.data!.raiseAlert.id;
      await server.services.alerts.deliverer.idle();
      expect(slack.received).toHaveLength(1);
      const text: string = JSON.parse(slack.received[0]!.body).text;
      expect(text).toContain('*[ERROR] queue backed up*');
      expect(text).toContain('12k jobs waiting');
      expect(text).toContain(id);

      const escalated = async () => (await deliveriesOf(server, id)).some((d) => d.event === 'ESCALATED' && d.status === 'DELIVERED');
      await until(escalated, 'the escalation to be delivered');
      expect(JSON.parse(slack.received.at(-1)!.body).text).toContain('escalated to level');
    } finally {
      await server.close();
      await new Promise((resolve) => slack.server.close(resolve));
    }
  });
});

describe('email delivery', () => {
  it('sends ERROR and CRITICAL alerts to the configured recipients over SMTP', async () => {
    const messages: { from: string; to: string[]; data: string }[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          messages.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            data: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as AddressInfo).port;
    const server = await startTestServer({
      env: {
        ...QUIET_ENV,
        VIGIL_ALERT_SMTP_URL: `smtp://127.0.0.1:${port}`,
        VIGIL_ALERT_EMAIL_TO: 'oncall@example.test, lead@example.test',
        VIGIL_ALERT_EMAIL_FROM: 'vigil@example.test',
        VIGIL_ALERT_EMAIL_MIN_LEVEL: 'ERROR',
      },
    });
    try {
      const admin = await tokenFor(server, Role.ADMIN);
      await graphql(server.url, RaiseAlertDocument, { input: { level: 'WARNING', title: 'not for email' } }, { token: admin });
      const res = await graphql(server.url, RaiseAlertDocument, { input: { level: 'CRITICAL', title: 'database is DOWN', message: 'no answer in 2000 ms' } }, { token: admin });
      await server.services.alerts.deliverer.idle();
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatchObject({ from: 'vigil@example.test', to: ['oncall@example.test', 'lead@example.test'] });
      expect(messages[0]!.data).toContain('Subject: Vigil: [CRITICAL] database is DOWN');
      expect(messages[0]!.data).toContain('no answer in 2000 ms');
      const [delivery] = await deliveriesOf(server, res.data!.raiseAlert.id);
      expect(delivery).toMatchObject({ channel: 'email', status: 'DELIVERED', attempts: 1 });
    } finally {
      await server.close();
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });
});
