import type { MikroORM } from '../../infra/db';
import type { AlertMessage } from './alert-channels';

/**
 * Whether an unexpired silence matches the alert: every matcher field it sets must match. A silence
 * without `until` lasts until a matching alert resolves, and at most `maxSeconds` after it was made.
 */
export async function isAlertSilenced(
  orm: MikroORM,
  alert: Pick<AlertMessage, 'source' | 'level' | 'fingerprint' | 'labels'>,
  maxSeconds: number,
): Promise<boolean> {
  const rows: unknown[] = await orm.em.fork().execute(
    `select 1 from alert_silence s
      where s.ended_at is null
        and (s.until > now() or (s.until is null and s.created_at > now() - make_interval(secs => ?)))
        and (s.source is null or s.source = ?)
        and (s.level is null or s.level = ?)
        and (s.fingerprint is null or s.fingerprint = ?)
        and (s.labels is null or ?::jsonb @> s.labels)
      limit 1`,
    [maxSeconds, alert.source, alert.level, alert.fingerprint, JSON.stringify(alert.labels ?? {})],
  );
  return rows.length > 0;
}
