import { randomUUID } from 'node:crypto';
import { systemMeta, type RequestMeta } from '../../src/context';
import type { Backup } from '../../src/entities/backup.entity';
import { withClient } from '../helpers/postgres';

/** What each test acts as when calling the service directly. */
export const adminMeta = (): RequestMeta => ({
  ...systemMeta('test'),
  actor: { id: randomUUID(), email: 'backup-admin@example.com', role: 'SUPER_ADMIN' as never },
});

/** Every user table's rows, as one digest per table (the tables restores leave alone excluded). */
export async function tableDigests(url: string, exclude: string[] = []): Promise<Record<string, string>> {
  return withClient(url, async (c) => {
    const { rows: tables } = await c.query<{ name: string }>(
      `select relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'r' and relname not in ('backup', 'backup_verification', 'backup_operation', 'alert_sequence_ledger', 'maintenance_hold', 'settings_instance', 'system_settings_state', 'system_settings_change') order by 1`,
    );
    const digests: Record<string, string> = {};
    for (const { name } of tables) {
      if (exclude.includes(name)) continue;
      const { rows } = await c.query<{ d: string | null; n: string }>(
        `select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as d, count(*) as n from "${name}" t`,
      );
      digests[name] = `${rows[0]!.n}:${rows[0]!.d}`;
    }
    return digests;
  });
}

/** Small demo data: users, settings and a table of this test's own. */
export async function seedDemoData(url: string, n = 20): Promise<void> {
  await withClient(url, async (c) => {
    await c.query('create table if not exists demo_item (id serial primary key, name text not null, payload jsonb)');
    for (let i = 0; i < n; i++) {
      await c.query(
        `insert into "user" (id, email, name, role, password_hash) values ($1, $2, $3, 'ANALYST', 'x')`,
        [randomUUID(), `user${i}-${randomUUID().slice(0, 8)}@example.com`, `User ${i}`],
      );
      await c.query('insert into demo_item (name, payload) values ($1, $2)', [`item ${i}`, JSON.stringify({ i, tags: ['a', 'b'] })]);
    }
    await c.query(`insert into system_setting (key, value) values ('demo.flag', '{"on": true}') on conflict (key) do nothing`);
  });
}

/** Changes and deletes data, so a restore has something to undo. */
export async function mutateData(url: string): Promise<void> {
  await withClient(url, async (c) => {
    await c.query(`update "user" set name = name || ' (changed)' where email like 'user1%'`);
    await c.query(`delete from demo_item where id % 3 = 0`);
    await c.query(`insert into demo_item (name) values ('added after the backup')`);
    await c.query(`delete from system_setting where key = 'demo.flag'`);
  });
}

/** Waits for a started backup to end and returns it. */
export async function finished(done: Promise<Backup>): Promise<Backup> {
  const backup = await done;
  if (backup.status !== 'SUCCEEDED') throw new Error(`backup ${backup.id} ${backup.status}: ${backup.error}`);
  return backup;
}
