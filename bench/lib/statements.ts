import { withClient } from '../../test/helpers/postgres';

const SAMPLE_REQUESTS = 20;

/**
 * SQL statements the server runs per request, from pg_stat_statements: reset, send requests one at
 * a time, count the calls in the server's database (background health checks excluded).
 */
export async function countStatements(
  databaseUrl: string,
  server: { url: string; headers?: Record<string, string> },
  body: string,
): Promise<number> {
  await withClient(databaseUrl, (c) => c.query('SELECT pg_stat_statements_reset()'));
  for (let i = 0; i < SAMPLE_REQUESTS; i++) {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...server.headers },
      body,
    });
    await response.arrayBuffer();
  }
  const rows = await withClient(databaseUrl, (c) =>
    c.query<{ calls: string }>(
      `SELECT coalesce(sum(s.calls), 0) AS calls
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = current_database()
          AND s.query NOT ILIKE '%pg_stat_statements%'
          AND s.query !~* '^\\s*select \\$?1\\s*$'`,
    ),
  );
  return Math.round((Number(rows.rows[0]!.calls) / SAMPLE_REQUESTS) * 10) / 10;
}
