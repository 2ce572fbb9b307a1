import { BoundedQueue, type QueueLimit } from '../../infra/bounded-queue';
import type { Logger } from '../../infra/logger';
import type { VigilPubSub } from '../../infra/pubsub';
import { HealthStatus } from '../../schema/enums';
import {
  HEALTH_COMPONENT_CHANGED,
  overallStatus,
  type ComponentReport,
  type HealthCheck,
  type HealthComponentChangedEvent,
  type HealthReport,
} from './health-check';

export interface HealthServiceOptions {
  checks: HealthCheck[];
  /** Each check's time limit; a check that takes longer is DOWN. */
  checkTimeoutMs: number;
  /** How long a report is reused, so a flood of health queries does not hammer dependencies. */
  cacheMs: number;
  /** How often the monitor re-checks and publishes changes; 0 disables the monitor. */
  intervalMs: number;
  logger: Logger;
  /** Where the monitor publishes {@link HealthComponentChangedEvent}s; none: not published. */
  pubsub?: VigilPubSub;
  /** Names this instance in published events. */
  instanceId?: string;
}

type Listener = (report: HealthReport) => void;

/** Runs the health checks in parallel, caches the report, and watches for status changes. */
export class HealthService {
  private cached?: { at: number; report: Promise<HealthReport> };
  private timer?: NodeJS.Timeout;
  private lastSignature?: string;
  private readonly lastComponentStatus = new Map<string, HealthStatus>();
  private readonly listeners = new Set<Listener>();
  private readonly componentListeners = new Set<(event: HealthComponentChangedEvent) => void>();
  private readonly checks: HealthCheck[];

  constructor(private readonly options: HealthServiceOptions) {
    this.checks = [...options.checks];
  }

  /**
   * Calls `listener` with this instance's component changes, in process: unlike the pub/sub topic
   * it also hears about a Redis outage while Redis is down. Returns the unsubscribe function.
   */
  onComponentChange(listener: (event: HealthComponentChangedEvent) => void): () => void {
    this.componentListeners.add(listener);
    return () => this.componentListeners.delete(listener);
  }

  /** Adds a component (areas built after the health service plug theirs in this way). */
  addCheck(check: HealthCheck): void {
    this.checks.push(check);
    this.cached = undefined;
  }

  /** The current report, from cache when fresh. */
  check(): Promise<HealthReport> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < this.options.cacheMs) return this.cached.report;
    const report = this.runChecks();
    this.cached = { at: now, report };
    return report;
  }

  /** Runs every check now, bypassing the cache. */
  async runChecks(): Promise<HealthReport> {
    const components = await Promise.all(this.checks.map((check) => this.runOne(check)));
    return { status: overallStatus(components), checkedAt: new Date(), components };
  }

  private async runOne(check: HealthCheck): Promise<ComponentReport> {
    const started = performance.now();
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Error(`no answer within ${this.options.checkTimeoutMs} ms`));
      }, this.options.checkTimeoutMs);
    });
    try {
      const outcome = await Promise.race([check.run(controller.signal), timeout]);
      return { name: check.name, critical: check.critical, latencyMs: elapsed(started), ...outcome };
    } catch (error) {
      return {
        name: check.name,
        critical: check.critical,
        status: HealthStatus.DOWN,
        latencyMs: elapsed(started),
        detail: error instanceof Error ? error.message : String(error),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Reports each time the overall status or a component's status changes, starting with the
   * current one; a consumer more than `limit.maxQueue` reports behind is cut off.
   */
  changes(limit: QueueLimit): AsyncIterableIterator<HealthReport> {
    const queue = new BoundedQueue<HealthReport>(limit);
    let changed = false;
    const listener: Listener = (report) => {
      changed = true;
      queue.push(report);
    };
    this.listeners.add(listener);
    queue.whenEnded(() => this.listeners.delete(listener));
    // The current report goes first, unless a change (newer) already arrived.
    void this.check().then(
      (report) => {
        if (!changed) queue.push(report);
      },
      () => undefined,
    );
    return queue;
  }

  /** Runs the checks now and tells `changes()` subscribers if a status changed (the monitor's tick). */
  async refresh(): Promise<HealthReport> {
    const report = await this.runChecks();
    this.cached = { at: Date.now(), report: Promise.resolve(report) };
    this.publishComponentChanges(report);
    const signature = [report.status, ...report.components.map((c) => `${c.name}:${c.status}`)].join('|');
    if (signature !== this.lastSignature) {
      if (this.lastSignature !== undefined) {
        this.options.logger.info({ status: report.status, signature }, 'health status changed');
        for (const listener of [...this.listeners]) listener(report);
      }
      this.lastSignature = signature;
    }
    return report;
  }

  /** Starts the monitor that re-checks on an interval and notifies `changes()` subscribers. */
  start(): void {
    if (this.timer || this.options.intervalMs <= 0) return;
    const tick = async () => {
      try {
        await this.refresh();
      } catch (error) {
        this.options.logger.error({ err: error }, 'health monitor failed');
      }
    };
    void tick();
    this.timer = setInterval(() => void tick(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const check of this.checks) check.stop?.();
  }

  private publishComponentChanges(report: HealthReport): void {
    for (const component of report.components) {
      const previous = this.lastComponentStatus.get(component.name) ?? null;
      this.lastComponentStatus.set(component.name, component.status);
      if (previous === component.status || (previous === null && component.status === HealthStatus.UP)) continue;
      const event: HealthComponentChangedEvent = {
        component: component.name,
        status: component.status,
        previous,
        detail: component.detail ?? null,
        critical: component.critical,
        instanceId: this.options.instanceId ?? 'local',
        at: report.checkedAt.toISOString(),
      };
      this.options.logger.info(event, 'health component changed');
      for (const listener of this.componentListeners) listener(event);
      this.options.pubsub?.publish(HEALTH_COMPONENT_CHANGED, event);
    }
  }
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 100) / 100;
