import type { EntityManager } from '../../infra/db';

/** What is being guessed: an account's password (by email address) or its second factor (by user id). */
export enum AttemptScope {
  PASSWORD = 'password',
  SECOND_FACTOR = 'second-factor',
}

/** Lockout settings, read anew for every attempt so they can change while the server runs. */
export interface ThrottleSettings {
  threshold: number;
  windowSeconds: number;
  durationSeconds: number;
}

/** The outcome of {@link AttemptThrottle.reserve}. */
export interface Reservation {
  /** False: the attempt must not be checked; the subject is locked for `retryAfterSeconds`. */
  allowed: boolean;
  /** This attempt's number in the current window (1-based). */
  number: number;
  /** Whether this attempt is the one that reached the threshold (the lock starts with it). */
  reachedThreshold: boolean;
  /** Seconds until the lock ends; 0 when not locked. */
  retryAfterSeconds: number;
}

/**
 * Counts guesses per subject (an email address, known or not, so a lockout reveals nothing about
 * which accounts exist; or a user id for second-factor codes) in PostgreSQL, which every instance
 * shares and which does not depend on Redis being up.
 *
 * An attempt is **reserved before** the secret is checked, in one statement: the reservation is the
 * count, so concurrent attempts cannot all read "not locked yet" and then all be checked — at most
 * `threshold` attempts per window are ever checked. An attempt numbered above the threshold is
 * refused without being checked. The attempt that reaches the threshold starts the lock
 * (`durationSeconds`); once the lock ran out, or the window (`windowSeconds`) passed without a lock,
 * the next attempt starts a new count.
 *
 * A success gives back only its own reservation ({@link release}), never the failures other
 * attempts counted, and it is itself refused when the others reached the threshold while it was
 * being checked ({@link release} answers false): a correct password inside a burst of wrong ones
 * does not get through.
 */
export class AttemptThrottle {
  constructor(
    private readonly em: () => EntityManager,
    private readonly settings: (scope: AttemptScope) => ThrottleSettings,
  ) {}

  /** Reserves one attempt; the caller checks the secret only when `allowed`. */
  async reserve(scope: AttemptScope, subject: string): Promise<Reservation> {
    const { threshold, windowSeconds, durationSeconds } = this.settings(scope);
    const expired = `(t.locked_until is null and t.window_started_at < now() - make_interval(secs => ?))
                     or (t.locked_until is not null and t.locked_until <= now())`;
    const rows = await this.em()
      .getConnection()
      .execute<{ attempts: number; locked_until: Date | null; seconds: number | null }[]>(
        `insert into attempt_throttle as t (scope, subject, attempts, window_started_at, locked_until)
           values (?, ?, 1, now(), case when 1 >= ? then now() + make_interval(secs => ?) end)
         on conflict (scope, subject) do update set
           attempts = case when ${expired} then 1 else t.attempts + 1 end,
           window_started_at = case when ${expired} then now() else t.window_started_at end,
           locked_until = case
             when ${expired} then case when 1 >= ? then now() + make_interval(secs => ?) end
             when t.locked_until is null and t.attempts + 1 >= ? then now() + make_interval(secs => ?)
             else t.locked_until end
         returning t.attempts, t.locked_until, ceil(extract(epoch from (t.locked_until - now())))::int as seconds`,
        [
          scope,
          subject,
          threshold,
          durationSeconds,
          windowSeconds,
          windowSeconds,
          windowSeconds,
          threshold,
          durationSeconds,
          threshold,
          durationSeconds,
        ],
      );
    const row = rows[0]!;
    const attempts = Number(row.attempts);
    const retryAfterSeconds = Math.max(1, Number(row.seconds ?? 0));
    return {
      allowed: attempts <= threshold,
      number: attempts,
      reachedThreshold: attempts === threshold,
      retryAfterSeconds: row.locked_until ? retryAfterSeconds : 0,
    };
  }

  /**
   * Gives back the reservation of an attempt that succeeded. Returns false — the success must be
   * refused — when the other attempts of the window reached the threshold meanwhile; otherwise
   * the lock that only this attempt's reservation completed is lifted.
   * @returns whether the success stands, and the lock's remaining seconds when it does not.
   */
  async release(scope: AttemptScope, subject: string): Promise<{ stands: boolean; retryAfterSeconds: number }> {
    const { threshold } = this.settings(scope);
    const rows = await this.em()
      .getConnection()
      .execute<{ others: number; seconds: number | null }[]>(
        `update attempt_throttle as t set
           attempts = greatest(t.attempts - 1, 0),
           locked_until = case when t.attempts - 1 >= ? then t.locked_until end
         where scope = ? and subject = ?
         returning t.attempts as others, ceil(extract(epoch from (t.locked_until - now())))::int as seconds`,
        [threshold, scope, subject],
      );
    const row = rows[0];
    if (!row || Number(row.others) < threshold) return { stands: true, retryAfterSeconds: 0 };
    return { stands: false, retryAfterSeconds: Math.max(1, Number(row.seconds ?? 1)) };
  }

  /** Forgets every attempt of a subject (a password reset by the operator, a second factor reset). */
  async clear(em: EntityManager, scope: AttemptScope, subject: string): Promise<void> {
    await em.getConnection().execute('delete from attempt_throttle where scope = ? and subject = ?', [scope, subject], 'all', em.getTransactionContext());
  }
}
