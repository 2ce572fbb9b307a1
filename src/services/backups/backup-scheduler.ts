import { Cron } from 'croner';
import { systemMeta } from '../../context';
import type { Logger } from '../../infra/logger';
import type { BackupService } from './backup.service';

/** How often the freshness of the newest backup is checked. */
const FRESHNESS_PATTERN = '*/15 * * * *';

/** How far back a late tick still finds its slot. */
const SLOT_LOOKBACK_MS = 10 * 60 * 1000;

/**
 * The slot a tick belongs to: the latest time of the pattern at or before `now`. Instances whose
 * timers fire late or a little apart agree on it (the slot is what makes a tick run once across
 * instances); a tick later than the look-back falls back to `now` in whole seconds.
 */
export function slotOf(pattern: string, now: Date): Date {
  const cron = new Cron(pattern, { timezone: 'UTC', paused: true });
  try {
    let slot: Date | null = null;
    let next = cron.nextRun(new Date(now.getTime() - SLOT_LOOKBACK_MS));
    while (next && next.getTime() <= now.getTime()) {
      slot = next;
      next = cron.nextRun(next);
    }
    return slot ?? new Date(Math.floor(now.getTime() / 1000) * 1000);
  } finally {
    cron.stop();
  }
}

/**
 * The backups area's schedules (UTC): backups, restore drills and the freshness check. Every
 * instance runs the timers; the service makes each slot run once across instances.
 */
export class BackupScheduler {
  private jobs: Cron[] = [];

  private started = false;

  constructor(
    private readonly service: BackupService,
    private schedules: { backup: string | null; drill: string | null },
    private readonly logger: Logger,
  ) {}

  /** Arms new schedules in place of the current ones (if started), when they differ. */
  reschedule(schedules: { backup: string | null; drill: string | null }): void {
    if (schedules.backup === this.schedules.backup && schedules.drill === this.schedules.drill) return;
    this.schedules = schedules;
    if (!this.started) return;
    this.stopJobs();
    this.arm();
    this.logger.info({ backup: schedules.backup ?? 'off', drill: schedules.drill ?? 'off' }, 'backup schedules re-armed');
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.arm();
  }

  private arm(): void {
    const job = (pattern: string, name: string, fn: (slot: Date) => Promise<unknown>) =>
      new Cron(pattern, { timezone: 'UTC', protect: true }, async () => {
        try {
          await fn(slotOf(pattern, new Date()));
        } catch (err) {
          this.logger.error({ err, job: name }, 'scheduled backup job failed');
        }
      });
    if (this.schedules.backup) {
      this.jobs.push(job(this.schedules.backup, 'backup', (slot) => this.service.runScheduledBackup(slot, systemMeta('scheduledBackup'))));
    }
    if (this.schedules.drill) {
      this.jobs.push(job(this.schedules.drill, 'drill', (slot) => this.service.runDrill(slot, systemMeta('restoreDrill'))));
    }
    this.jobs.push(job(FRESHNESS_PATTERN, 'freshness', () => this.service.checkFreshness()));
  }

  stop(): void {
    this.started = false;
    this.stopJobs();
  }

  private stopJobs(): void {
    for (const job of this.jobs) job.stop();
    this.jobs = [];
  }
}
