import type { Logger } from '../../infra/logger';
import { isDependencyOutage } from '../../infra/outage';

export interface PendingWritesOptions {
  logger: Logger;
  /**
   * How often writes that met an outage are tried again.
   * @default 2_000
   */
  retryMs?: number;
  /**
   * Writes kept while the outage lasts; the oldest is dropped (and logged) beyond this.
   * @default 1_000
   */
  max?: number;
}

interface PendingWrite {
  what: string;
  write: () => Promise<unknown>;
}

/**
 * Writes that must not be lost to a database outage — above all the alert that says the database
 * was down, which cannot be stored while it is. A write that fails because a dependency is
 * unavailable is kept and retried, in order, until it succeeds; writes that come while others wait
 * queue behind them, so a recovery is never stored before the failure it resolves. Any other error
 * is the caller's (or, for a retried write, logged).
 */
export class PendingWrites {
  private readonly queue: PendingWrite[] = [];
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: PendingWritesOptions) {}

  /** Writes waiting for a dependency to come back. */
  get size(): number {
    return this.queue.length;
  }

  /** Runs `write` now, or after the writes still waiting. */
  async run(what: string, write: () => Promise<unknown>): Promise<void> {
    if (this.queue.length) {
      this.keep({ what, write });
      return;
    }
    try {
      await write();
    } catch (error) {
      if (!isDependencyOutage(error) || this.stopped) throw error;
      this.options.logger.warn({ what, err: error }, 'a dependency is unavailable: the write is kept and retried');
      this.keep({ what, write });
    }
  }

  /** Tries the waiting writes now (resolves when they are stored or the outage is still on). */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => {
      this.flushing = undefined;
      this.schedule();
    });
    return this.flushing;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.queue.length) this.options.logger.warn({ lost: this.queue.map((w) => w.what) }, 'writes still waiting for a dependency are dropped at shutdown');
    this.queue.length = 0;
  }

  private keep(write: PendingWrite): void {
    if (this.stopped) return;
    this.queue.push(write);
    const max = this.options.max ?? 1000;
    if (this.queue.length > max) this.options.logger.warn({ dropped: this.queue.shift()!.what }, 'too many writes waiting for a dependency: the oldest is dropped');
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped || this.timer || !this.queue.length) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.options.retryMs ?? 2000);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    while (this.queue.length && !this.stopped) {
      const head = this.queue[0]!;
      try {
        await head.write();
      } catch (error) {
        if (isDependencyOutage(error)) return;
        this.options.logger.error({ what: head.what, err: error }, 'a kept write failed after the outage; dropped');
      }
      this.queue.shift();
    }
  }
}
