import { createHmac, timingSafeEqual } from 'node:crypto';
import { createTransport, type Transporter } from 'nodemailer';
import type { AlertDeliveryEvent, AlertChannelName } from '../../entities/alert-delivery.entity';
import type { Alert, AlertLevel } from '../../entities/alert.entity';
import type { Logger } from '../../infra/logger';

/** What a channel sends about an alert: a plain copy, safe to serialise. */
export interface AlertMessage {
  id: string;
  seq: number;
  level: AlertLevel;
  title: string;
  message: string | null;
  source: string;
  fingerprint: string;
  labels: Record<string, unknown>;
  status: string;
  count: number;
  firstSeenAt: string;
  lastSeenAt: string;
  escalationLevel: number;
}

/** A copy of an alert for channels, taken once so retries do not touch the entity. */
export function alertMessage(alert: Alert): AlertMessage {
  return {
    id: alert.id,
    seq: alert.seq,
    level: alert.level,
    title: alert.title,
    message: alert.message ?? null,
    source: alert.source,
    fingerprint: alert.fingerprint,
    labels: alert.labels,
    status: alert.status,
    count: alert.count,
    firstSeenAt: alert.firstSeenAt.toISOString(),
    lastSeenAt: alert.lastSeenAt.toISOString(),
    escalationLevel: alert.escalationLevel,
  };
}

/** One way of telling people about alerts. */
export interface AlertChannel {
  name: AlertChannelName;
  /** Alerts below this level are not sent here. */
  minLevel: AlertLevel;
  /** Whether sends are recorded in `alert_delivery` and retried. */
  recorded: boolean;
  send(alert: AlertMessage, event: AlertDeliveryEvent, deliveryId: string, signal: AbortSignal): Promise<void>;
}

/** Headers and signature of a webhook request; receivers verify with {@link verifyWebhookSignature}. */
export const WEBHOOK_SIGNATURE_HEADER = 'x-vigil-signature';
export const WEBHOOK_TIMESTAMP_HEADER = 'x-vigil-timestamp';

/**
 * `sha256=<hex HMAC-SHA256>` over `<timestamp>.<raw body>` with the shared secret. Signing the
 * timestamp with the body lets a receiver refuse replays of an old request.
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Checks a webhook request's signature (constant time). */
export function verifyWebhookSignature(secret: string, timestamp: string, body: string, signature: string): boolean {
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

async function postJson(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'vigil-alerts', ...headers },
    body,
    signal,
    redirect: 'error',
  });
  // The body is drained so the connection can be reused; its content is not needed.
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${new URL(url).host}`);
}

/** Generic webhook: the alert as JSON, signed when a secret is configured. */
export function webhookChannel(options: { url: string; secret?: string; minLevel: AlertLevel }): AlertChannel {
  return {
    name: 'webhook',
    minLevel: options.minLevel,
    recorded: true,
    async send(alert, event, deliveryId, signal) {
      const body = JSON.stringify({ event, deliveryId, alert });
      const timestamp = String(Math.floor(Date.now() / 1000));
      const headers: Record<string, string> = {
        'x-vigil-event': event,
        'x-vigil-delivery': deliveryId,
        [WEBHOOK_TIMESTAMP_HEADER]: timestamp,
      };
      if (options.secret) headers[WEBHOOK_SIGNATURE_HEADER] = signWebhook(options.secret, timestamp, body);
      await postJson(options.url, body, headers, signal);
    },
  };
}

const SLACK_EMOJI: Record<AlertLevel, string> = {
  INFO: ':information_source:',
  WARNING: ':warning:',
  ERROR: ':red_circle:',
  CRITICAL: ':rotating_light:',
};

/** One line of text a person reads first, in Slack, a subject line or a log. */
export function alertHeadline(alert: AlertMessage, event: AlertDeliveryEvent): string {
  const escalated = event === 'ESCALATED' ? ` (escalated to level ${alert.escalationLevel})` : '';
  return `[${alert.level}] ${alert.title}${escalated}`;
}

/** Slack incoming webhook: a text message with the alert's essentials. */
export function slackChannel(options: { url: string; minLevel: AlertLevel }): AlertChannel {
  return {
    name: 'slack',
    minLevel: options.minLevel,
    recorded: true,
    async send(alert, event, _deliveryId, signal) {
      const lines = [
        `${SLACK_EMOJI[alert.level]} *${alertHeadline(alert, event)}*`,
        alert.message ?? '',
        `source: \`${alert.source}\` · seen ${alert.count}× · first ${alert.firstSeenAt} · id \`${alert.id}\``,
      ].filter(Boolean);
      await postJson(options.url, JSON.stringify({ text: lines.join('\n') }), {}, signal);
    },
  };
}

/** Email over SMTP through nodemailer. */
export function emailChannel(options: { smtpUrl: string; to: string[]; from: string; minLevel: AlertLevel }, timeoutMs: number): AlertChannel {
  let transport: Transporter | undefined;
  return {
    name: 'email',
    minLevel: options.minLevel,
    recorded: true,
    async send(alert, event) {
      transport ??= createTransport(options.smtpUrl, {
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      });
      await transport.sendMail({
        from: options.from,
        to: options.to,
        subject: `Vigil: ${alertHeadline(alert, event)}`,
        text: [
          alertHeadline(alert, event),
          '',
          alert.message ?? '(no message)',
          '',
          `Source: ${alert.source}`,
          `Fingerprint: ${alert.fingerprint}`,
          `Seen: ${alert.count} time(s), first at ${alert.firstSeenAt}, last at ${alert.lastSeenAt}`,
          `Alert id: ${alert.id}`,
          `Labels: ${JSON.stringify(alert.labels)}`,
        ].join('\n'),
      });
    },
  };
}

/** The structured log; never fails and is not recorded. */
export function logChannel(logger: Logger, minLevel: AlertLevel): AlertChannel {
  return {
    name: 'log',
    minLevel,
    recorded: false,
    async send(alert, event) {
      const entry = { alertId: alert.id, seq: alert.seq, alertLevel: alert.level, source: alert.source, fingerprint: alert.fingerprint, count: alert.count, event };
      const line = alertHeadline(alert, event);
      if (alert.level === 'CRITICAL' || alert.level === 'ERROR') logger.error(entry, line);
      else if (alert.level === 'WARNING') logger.warn(entry, line);
      else logger.info(entry, line);
    },
  };
}
