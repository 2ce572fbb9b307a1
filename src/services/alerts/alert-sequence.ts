import type { Client } from 'pg';

/** The advisory lock under which alerts are deduplicated and numbered (`ALERT_RAISE_LOCK`). */
export const ALERT_RAISE_LOCK = 7_310_447_001;

/**
 * The next alert `seq`: one past every seq ever handed out, counting the alerts a restore took away
 * (kept in `alert_sequence_ledger`, which restores leave alone). Without the ledger a restore would
 * hand out old numbers again, and subscribers positioned past them would silently skip new alerts.
 * Run under the raise lock.
 */
export const NEXT_ALERT_SEQ_SQL = `select greatest(
    coalesce((select max(seq) from alert), 0),
    coalesce((select max(seq) from alert_sequence_ledger), 0)
  ) + 1 as next`;

/**
 * Before a restore replaces the alert table: holds the raise lock on `client`'s session (no alert
 * can be numbered until `release`) and records every current alert's id and seq in the ledger, so
 * numbering continues past them and `alertRaised(after:)` still knows where an alert a restore
 * removed stood. Call `release` once the restore has committed or rolled back.
 */
export async function holdAlertSequence(client: Client): Promise<{ release(): Promise<void> }> {
  await client.query('select pg_advisory_lock($1::bigint)', [ALERT_RAISE_LOCK]);
  try {
    await client.query('insert into alert_sequence_ledger (id, seq) select id, seq from alert on conflict (id) do nothing');
  } catch (error) {
    await client.query('select pg_advisory_unlock($1::bigint)', [ALERT_RAISE_LOCK]).catch(() => undefined);
    throw error;
  }
  return {
    async release() {
      await client.query('select pg_advisory_unlock($1::bigint)', [ALERT_RAISE_LOCK]);
    },
  };
}
