import { ServiceUnavailableError } from '../../errors';

/** What a refused write answers with: the maintenance message and since when it is on. */
export interface MaintenanceNotice {
  message: string | null;
  reason: string | null;
  since: Date | null;
}

/** How long clients are told to wait before retrying a refused write. */
export const MAINTENANCE_RETRY_AFTER_SECONDS = 30;

/** `extensions.reason` of a write refused because maintenance is on. */
export const MAINTENANCE_REASON = 'MAINTENANCE' as const;

/**
 * Mutation root fields that stay open during maintenance: signing in and out (so administrators
 * can reach the switch), the settings themselves (to turn maintenance off), and restoring a backup
 * (restores run inside maintenance).
 */
export const MAINTENANCE_EXEMPT_MUTATIONS: ReadonlySet<string> = new Set([
  'login',
  'refreshSession',
  'logout',
  'updateSystemSettings',
  'restoreBackup',
  '__typename',
]);

function isExempt(fields: Iterable<string>): boolean {
  for (const field of fields) if (!MAINTENANCE_EXEMPT_MUTATIONS.has(field)) return false;
  return true;
}

/** SERVICE_UNAVAILABLE for a write refused during maintenance, with `retryAfter`, `reason` and the operator's message. */
export function maintenanceError(notice: MaintenanceNotice): ServiceUnavailableError {
  const error = new ServiceUnavailableError(notice.message ?? 'Vigil is in maintenance: changes are refused until it ends; reads still work', {
    retryAfter: MAINTENANCE_RETRY_AFTER_SECONDS,
    reason: MAINTENANCE_REASON,
  });
  Object.assign(error.extensions, {
    ...(notice.reason ? { detail: notice.reason } : {}),
    ...(notice.since ? { since: notice.since.toISOString() } : {}),
  });
  return error;
}

/**
 * This instance's admission of writes. A mutation is admitted (and counted as in flight until its
 * release) only while maintenance is off; the check and the count happen in one synchronous step,
 * so once maintenance is applied no further write can slip in, and {@link drained} resolves when
 * the writes admitted before it have all finished.
 */
export class WriteGate {
  private inFlight = 0;
  private notice: MaintenanceNotice | null = null;
  private waiters: (() => void)[] = [];

  /** Writes admitted and not yet released. */
  get writesInFlight(): number {
    return this.inFlight;
  }

  /** True while maintenance refuses writes on this instance. */
  get closed(): boolean {
    return this.notice !== null;
  }

  /** Applies the maintenance state (null: writes are open). */
  setMaintenance(notice: MaintenanceNotice | null): void {
    this.notice = notice;
  }

  /**
   * Admits one mutation whose root fields are `fields`, or throws SERVICE_UNAVAILABLE during
   * maintenance unless every field is exempt. Returns the release function to call exactly once
   * when the mutation has finished (exempt mutations are not counted).
   * @throws {ServiceUnavailableError}
   */
  admit(fields: Iterable<string>): () => void {
    if (isExempt(fields)) return () => undefined;
    if (this.notice) throw maintenanceError(this.notice);
    this.inFlight += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const wake of this.waiters.splice(0)) wake();
    };
  }

  /**
   * The refusal a mutation with root fields `fields` gets now (SERVICE_UNAVAILABLE during
   * maintenance unless every field is exempt), or null; counts nothing (the gate's check).
   */
  refusal(fields: Iterable<string>): ServiceUnavailableError | null {
    return this.notice && !isExempt(fields) ? maintenanceError(this.notice) : null;
  }

  /** Resolves when no admitted write is in flight. */
  drained(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
