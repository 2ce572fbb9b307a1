import { systemMeta } from '../../context';
import type { Logger } from '../../infra/logger';
import type { AlertService } from './alert.service';

/**
 * Looks for alerts to escalate every `intervalMs`. Every instance runs the timer; the advisory
 * lock inside {@link AlertService.escalateDue} lets one of them do the work each time.
 */
export class AlertEscalator {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly alerts: AlertService,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** One pass now (skipped if one is still running). */
  tick(): Promise<void> {
    this.running ??= this.alerts
      .escalateDue(systemMeta('alertEscalation'))
      .then(() => undefined)
      .catch((err) => this.logger.error({ err }, 'alert escalation failed'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
