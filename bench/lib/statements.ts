import { withClient } from '../../test/helpers/postgres';

const SAMPLE_REQUESTS = 50;
const SETTLE_MS = 3000;

const COUNT_SQL = `SELECT coalesce(sum(s.calls), 0) AS calls
     FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
    WHERE d.datname = current_database()
      AND s.query NOT ILIKE '%pg_stat_statements%'
      AND s.query !~* '^\\s*select \\$?1\\s*$'`;

async function statementsSince(databaseUrl: string): Promise<number> {
  const rows = await withClient(databaseUrl, (c) => c.query<{ calls: string }>(COUNT_SQL));
  return Number(rows.rows[0]!.calls);
}

const reset = (databaseUrl: string) => withClient(databaseUrl, (c) => c.query('SELECT pg_stat_statements_reset()'));

/**
 * SQL statements the server runs per request, from pg_stat_statements: reset, send requests one at
 * a time, count the calls in the server's database; then count what the server runs on its own
 * (health checks, alert escalation, audit verification) over an idle period of the same length
 * and subtract it.
 */
export async function countStatements(
  databaseUrl: string,
  server: { url: string; headers?: Record<string, string> },
  body: string,
): Promise<number> {
  // Let the work a load run left behind (health alerts, audit, escalation checks) finish first.
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  await reset(databaseUrl);
  const started = Date.now();
  for (let i = 0; i < SAMPLE_REQUESTS; i++) {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...server.headers },
      body,
    });
    await response.arrayBuffer();
  }
  const elapsed = Date.now() - started;
  const total = await statementsSince(databaseUrl);
  await reset(databaseUrl);
  await new Promise((r) => setTimeout(r, elapsed));
  const background = await statementsSince(databaseUrl);
  return Math.round((Math.max(0, total - background) / SAMPLE_REQUESTS) * 10) / 10;
}
