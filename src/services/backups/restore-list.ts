import type { Client } from 'pg';

/** Entry types whose tag is the table's name. */
const TABLE_TAG = new Set(['TABLE', 'TABLE DATA']);
/** Entry types whose tag starts with the table's name (`<table> <name>`). */
const TABLE_FIRST = new Set(['CONSTRAINT', 'FK CONSTRAINT', 'DEFAULT', 'TRIGGER', 'POLICY', 'ROW SECURITY', 'RULE', 'CHECK CONSTRAINT']);
/** Entry types whose tag is `TABLE <table>` or `COLUMN <table>.<column>`. */
const ABOUT = new Set(['COMMENT', 'ACL', 'SECURITY LABEL']);
/** Entry types whose tag names the object itself (index, sequence). */
const OWN_NAME = new Set(['INDEX', 'SEQUENCE', 'SEQUENCE OWNED BY', 'SEQUENCE SET']);
const KNOWN = [...TABLE_TAG, ...TABLE_FIRST, ...ABOUT, ...OWN_NAME].sort((a, b) => b.length - a.length);

/**
 * The indexes and owned sequences of `tables` (`schema.table`), as `schema.name`, read from the
 * live database (same schema version as the archive, which a restore checks first).
 */
export async function dependentObjects(client: Client, tables: readonly string[]): Promise<Set<string>> {
  const { rows } = await client.query<{ name: string }>(
    `select n.nspname || '.' || i.relname as name
       from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
       join pg_namespace n on n.oid = t.relnamespace
      where n.nspname || '.' || t.relname = any($1)
     union
     select n.nspname || '.' || s.relname
       from pg_depend d join pg_class s on s.oid = d.objid and s.relkind = 'S' join pg_class t on t.oid = d.refobjid
       join pg_namespace n on n.oid = s.relnamespace
      where d.deptype in ('a', 'i') and n.nspname || '.' || t.relname = any($1)`,
    [tables],
  );
  return new Set(rows.map((r) => r.name));
}

/**
 * A `pg_restore --use-list` file from `pg_restore --list` output with every entry of `tables`
 * (their definition, data, constraints, indexes, comments, grants) commented out: `--clean` then
 * neither drops nor recreates them, and their rows stay as they are.
 */
export function restoreListWithout(toc: string, tables: readonly string[], dependents: ReadonlySet<string>): string {
  const preserved = new Set(tables);
  return toc
    .split('\n')
    .map((line) => (line && !line.startsWith(';') && belongs(line, preserved, dependents) ? `;${line}` : line))
    .join('\n');
}

function belongs(line: string, tables: ReadonlySet<string>, dependents: ReadonlySet<string>): boolean {
  const match = /^\d+;\s+\d+\s+\d+\s+(.*)$/.exec(line);
  if (!match) return false;
  const rest = match[1]!;
  const desc = KNOWN.find((d) => rest.startsWith(`${d} `));
  if (!desc) return false;
  const words = rest.slice(desc.length + 1).split(' ');
  if (words.length < 3) return false;
  const schema = words[0]!;
  const tag = words.slice(1, -1).join(' ');
  if (TABLE_TAG.has(desc)) return tables.has(`${schema}.${tag}`);
  if (TABLE_FIRST.has(desc)) return tables.has(`${schema}.${tag.split(' ')[0]}`);
  if (OWN_NAME.has(desc)) return dependents.has(`${schema}.${tag}`);
  const about = /^(?:TABLE|COLUMN) ([^.\s]+)/.exec(tag);
  return about !== null && tables.has(`${schema}.${about[1]}`);
}
