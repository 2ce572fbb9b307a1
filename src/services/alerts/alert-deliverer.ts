import { randomUUID } from 'node:crypto';
import { AlertDelivery, type AlertChannelName, type AlertDeliveryEvent } from '../../entities/alert-delivery.entity';
import { levelAtLeast, type Alert, type AlertLevel } from '../../entities/alert.entity';
import type { MikroORM } from '../../infra/db';
import type { Logger } from '../../infra/logger';
import { alertMessage, type AlertChannel, type AlertMessage } from './alert-channels';

export interface AlertDelivererOptions {
  orm: MikroORM;
  channels: AlertChannel[];
  logger: Logger;
  /** Attempts per recorded delivery. */
  maxAttempts: number;
  /** Wait before the second attempt; doubled before each further one. */
  backoffMs: number;
  /** Time limit of one attempt. */
  timeoutMs: number;
  /** Whether a silence mutes this alert now. */
  isSilenced: (alert: AlertMessage) => Promise<boolean>;
  /**
   * The lowest level a channel delivers now, read for each alert (live settings); undefined: the
   * channel's own `minLevel`.
   */
  minLevelOf?: (channel: AlertChannelName) => AlertLevel | undefined;
}

const MAX_ERROR_LENGTH = 500;

/**
 * Sends alerts through the configured channels in the background: `deliver` returns at once, so a
 * failing or slow channel never holds up raising or publishing. Each recorded send keeps an
 * `alert_delivery` row with its attempts and last error; silenced alerts get a SILENCED row.
 */
export class AlertDeliverer {
  private readonly inflight = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(private readonly options: AlertDelivererOptions) {}

  /** Starts delivering an alert that was raised or escalated; returns at once. */
  deliver(alert: Alert, event: AlertDeliveryEvent): void {
    if (this.abort.signal.aborted) return;
    const message = alertMessage(alert);
    const channels = this.options.channels.filter((c) => levelAtLeast(message.level, this.options.minLevelOf?.(c.name) ?? c.minLevel));
    if (!channels.length) return;
    const work = this.options
      .isSilenced(message)
      .then((silenced) => Promise.all(channels.map((channel) => this.deliverTo(channel, message, event, silenced))))
      .then(() => undefined)
      .catch((err) => this.options.logger.error({ err, alertId: message.id }, 'alert delivery failed'));
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  }

  /** Resolves once every delivery started so far has finished (delivered, failed or stopped). */
  async idle(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }

  /** Stops retrying; deliveries in progress end as they are. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.idle();
  }

  private async deliverTo(channel: AlertChannel, alert: AlertMessage, event: AlertDeliveryEvent, silenced: boolean): Promise<void> {
    if (!channel.recorded) {
      if (!silenced) await channel.send(alert, event, randomUUID(), this.abort.signal);
      return;
    }
    const em = this.options.orm.em.fork();
    const delivery = em.create(AlertDelivery, {
      id: randomUUID(),
      alertId: alert.id,
      channel: channel.name,
      event,
      status: silenced ? 'SILENCED' : 'PENDING',
    });
    await em.flush();
    if (silenced) return;

    const { maxAttempts, backoffMs, timeoutMs } = this.options;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (this.abort.signal.aborted) return;
      delivery.attempts = attempt;
      try {
        await channel.send(alert, event, delivery.id, AbortSignal.any([this.abort.signal, AbortSignal.timeout(timeoutMs)]));
        delivery.status = 'DELIVERED';
        // lastError stays: a delivery that needed retries tells of a flaky receiver.
        delivery.deliveredAt = new Date();
      } catch (error) {
        delivery.lastError = describe(error).slice(0, MAX_ERROR_LENGTH);
        if (attempt === maxAttempts) delivery.status = 'FAILED';
        this.options.logger.warn(
          { alertId: alert.id, channel: channel.name, attempt, err: delivery.lastError },
          attempt === maxAttempts ? 'alert delivery gave up' : 'alert delivery failed, will retry',
        );
      }
      delivery.updatedAt = new Date();
      await em.flush();
      if (delivery.status !== 'PENDING') return;
      await this.sleep(backoffMs * 2 ** (attempt - 1));
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.abort.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.abort.signal.addEventListener('abort', done, { once: true });
    });
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
