import type { EntityManager } from '../../infra/db';

/** Lockout settings (see `Config.auth`). */
export interface ThrottleSettings {
  threshold: number;
  windowSeconds: number;
  durationSeconds: number;
}

/**
 * Counts failed sign-ins per email address (known or not, so a lockout reveals nothing about which
 * accounts exist) in Postgres, which every instance shares. After `threshold` failures within
 * `windowSeconds` the address is locked for `durationSeconds`; the first failure after a lock ran
 * out starts a new count.
 */
export class LoginThrottle {
  constructor(
    private readonly em: () => EntityManager,
    private readonly settings: ThrottleSettings,
  ) {}

  /** Seconds until the address may try again; 0 when it is not locked. */
  async lockedFor(email: string): Promise<number> {
    const rows = await this.em()
      .getConnection()
      .execute<{ seconds: number }[]>(
        `select ceil(extract(epoch from (locked_until - now())))::int as seconds
           from login_throttle where email = ? and locked_until > now()`,
        [email],
      );
    return rows[0]?.seconds ?? 0;
  }

  /** Counts a failure; returns the lock it caused (seconds), 0 when the address is not locked. */
  async registerFailure(email: string): Promise<number> {
    const { threshold, windowSeconds, durationSeconds } = this.settings;
    const restart = `(login_throttle.window_started_at < now() - make_interval(secs => ?)
                      or (login_throttle.locked_until is not null and login_throttle.locked_until <= now()))`;
    const rows = await this.em()
      .getConnection()
      .execute<{ seconds: number | null }[]>(
        `insert into login_throttle (email, failures, window_started_at, locked_until)
           values (?, 1, now(), case when 1 >= ? then now() + make_interval(secs => ?) else null end)
         on conflict (email) do update set
           failures = case when ${restart} then 1 else login_throttle.failures + 1 end,
           window_started_at = case when ${restart} then now() else login_throttle.window_started_at end,
           locked_until = case
             when (case when ${restart} then 1 else login_throttle.failures + 1 end) >= ?
               then greatest(coalesce(login_throttle.locked_until, now()), now() + make_interval(secs => ?))
             else null end
         returning ceil(extract(epoch from (login_throttle.locked_until - now())))::int as seconds`,
        [email, threshold, durationSeconds, windowSeconds, windowSeconds, windowSeconds, threshold, durationSeconds],
      );
    return Math.max(0, rows[0]?.seconds ?? 0);
  }

  /** Forgets the failures of an address (after a successful sign-in or a password reset). */
  async clear(email: string): Promise<void> {
    await this.em().getConnection().execute('delete from login_throttle where email = ?', [email]);
  }
}
