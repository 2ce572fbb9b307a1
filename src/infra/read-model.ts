import { createHash } from 'node:crypto';
import type { EntityManager } from './db';

/**
 * Read-only rows for hot read paths. Hydrating through the ORM (`em.map`, `em.find`) registers
 * every row in the identity map, snapshots it for change tracking and runs its hydrator: on a page
 * of 20 investigations with 10 findings each that was the largest share of a request's CPU time
 * (bench/README.md, "Where the time goes"). Rows read here are never flushed, so they are built as
 * detached instances of the entity class instead: same prototype (type-graphql resolves fields on
 * them as on entities), plain properties, nothing kept by the EntityManager.
 */

/**
 * Per entity class, an object between the class prototype and detached instances: MikroORM puts
 * accessors for entity properties on the prototype, and assigning through them runs its change
 * tracking. Writable data properties of the same names here shadow them, so assignment creates
 * plain own properties (V8 keeps such objects on a fast shape).
 */
const shadows = new WeakMap<object, { proto: object; names: Set<string> }>();

function shadowOf(cls: { prototype: unknown }, names: readonly string[]): object {
  let shadow = shadows.get(cls);
  if (!shadow) {
    shadow = { proto: Object.create(cls.prototype as object) as object, names: new Set() };
    shadows.set(cls, shadow);
  }
  for (const name of names) {
    if (shadow.names.has(name)) continue;
    Object.defineProperty(shadow.proto, name, { value: undefined, writable: true, configurable: true, enumerable: false });
    shadow.names.add(name);
  }
  return shadow.proto;
}

/** An instance of `cls` with exactly `fields`, without running its constructor or touching the ORM. */
export function detached<T extends object>(cls: abstract new (...args: never[]) => T, fields: Partial<T>): T {
  return Object.assign(Object.create(shadowOf(cls, Object.keys(fields))) as T, fields);
}

/**
 * Makes empty detached instances of `cls` to fill with the named properties (see
 * {@link detached}), for rows read field by field ({@link readPositional}) without an object in
 * between.
 */
export function detachedShells<T extends object>(cls: abstract new (...args: never[]) => T, names: readonly string[]): () => T {
  const proto = shadowOf(cls, names);
  return () => Object.create(proto) as T;
}

/**
 * A `timestamptz` as the driver returns it (`2026-09-03 13:47:49.083+00`, text) or a Date, as a
 * Date; null stays null.
 */
export function pgTime(value: unknown): Date;
export function pgTime(value: unknown, nullable: true): Date | null;
export function pgTime(value: unknown, _nullable?: true): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const text = String(value);
  return utcTime(text) ?? parseTime(text);
}

const digits = (text: string, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
};

/**
 * The common case read by hand: UTC, `YYYY-MM-DD HH:MM:SS[.ffffff]+00` (the session's time zone
 * is UTC). Parsing date strings was a visible share of a page's CPU time. Null for anything else.
 */
function utcTime(text: string): Date | null {
  const n = text.length;
  if (n < 22 || text.charCodeAt(n - 3) !== 43 /* + */ || text.charCodeAt(n - 2) !== 48 || text.charCodeAt(n - 1) !== 48) return null;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 32 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return null;
  let ms = 0;
  if (n > 22) {
    if (text.charCodeAt(19) !== 46 /* . */) return null;
    const fraction = text.slice(20, Math.min(n - 3, 23)).padEnd(3, '0');
    ms = digits(fraction, 0, 3);
  }
  const year = digits(text, 0, 4);
  // Date.UTC reads years 0–99 as 1900–1999.
  if (!(year >= 100)) return null;
  const time = Date.UTC(year, digits(text, 5, 7) - 1, digits(text, 8, 10), digits(text, 11, 13), digits(text, 14, 16), digits(text, 17, 19), ms);
  return Number.isNaN(time) ? null : new Date(time);
}

function parseTime(text: string): Date {
  const iso = text.replace(' ', 'T');
  // PostgreSQL writes the offset as `+00` or `+05:30`; ECMAScript date strings need `+00:00`.
  return new Date(/[+-]\d\d$/.test(iso) ? `${iso}:00` : iso);
}

/** How a field travels in a positional row: as text, read back by its kind. */
export type FieldKind = 'text' | 'int' | 'bool' | 'time' | 'json';

/** A field of a positional row: its property name, its SQL over the row's alias, its kind. */
export interface RowField {
  name: string;
  sql: string;
  kind: FieldKind;
}

/** SQL turning a field's value into the text a positional row carries. */
function fieldText(field: RowField): string {
  // A timestamp travels as milliseconds since the epoch: `new Date(ms)` is cheap where parsing date text is not.
  return field.kind === 'time' ? `(date_part('epoch', ${field.sql}) * 1000)::text` : `(${field.sql})::text`;
}

/**
 * SQL for a row as a `text[]` of its fields in order. Nested rows are shipped as JSON arrays of
 * such positional rows (`to_json(array(select …))`): PostgreSQL builds arrays of text far faster
 * than JSON objects (measured: a page's findings as `json_build_object`/`json_agg` took about
 * twice as long), and `JSON.parse` of nested string arrays is the cheapest way to read them.
 */
export function positionalRow(fields: readonly RowField[]): string {
  return `array[${fields.map(fieldText).join(', ')}]`;
}

/** Reads a positional row (see {@link positionalRow}) into `into`, by field name. */
export function readPositional<T extends object>(fields: readonly RowField[], values: readonly (string | null)[], into: T): T {
  const target = into as Record<string, unknown>;
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    const text = values[i] ?? null;
    if (text === null) {
      target[field.name] = null;
      continue;
    }
    switch (field.kind) {
      case 'text':
        target[field.name] = text;
        break;
      case 'int':
        target[field.name] = Number(text);
        break;
      case 'bool':
        target[field.name] = text === 'true';
        break;
      case 'time':
        target[field.name] = new Date(Number(text));
        break;
      case 'json':
        target[field.name] = JSON.parse(text) as unknown;
        break;
    }
  }
  return into;
}

/** A statement of a hot read path, prepared once per connection under its name. */
export interface ReadStatement {
  name: string;
  text: string;
}

/** Statements by text: statements built from a query's options are named once per text. */
const statements = new Map<string, ReadStatement>();
const MAX_STATEMENTS = 2000;

/**
 * The statement for a text, named after it so equal texts share one prepared statement. Texts
 * must not carry values (those are parameters): each distinct text is prepared on every pooled
 * connection that runs it.
 */
export function readStatement(text: string): ReadStatement {
  let statement = statements.get(text);
  if (!statement) {
    if (statements.size >= MAX_STATEMENTS) statements.clear();
    statement = { name: `vigil_read_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`, text };
    statements.set(text, statement);
  }
  return statement;
}

interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Record<string, unknown>[] }>;
}

let queryUid = 0;

/**
 * Runs a read-only statement on a connection of the ORM's pool, as a named prepared statement:
 * PostgreSQL parses and plans it once per connection instead of on every request, and the query
 * builder, the ORM's logging wrapper and parameter rewriting are skipped. The statement is
 * reported through knex's own `query` / `query-response` / `query-error` events, so the slow
 * statement tracker and anything else listening still sees it. Parameters are `$1`, `$2`, ….
 */
export async function readRows<R = Record<string, unknown>>(em: EntityManager, statement: ReadStatement, values: unknown[]): Promise<R[]> {
  const knex = em.getKnex();
  const client = knex.client as { acquireConnection(): Promise<PgConnection>; releaseConnection(connection: PgConnection): Promise<unknown> };
  const event = { __knexQueryUid: `vigil-read-${++queryUid}`, sql: statement.text, method: 'raw' };
  // Driver errors leave as the ORM's own exceptions (ConnectionException …), as on every other path.
  const convert = (error: unknown) => (error && typeof error === 'object' && 'message' in error ? em.getDriver().convertException(error as Error) : error);
  const connection = await client.acquireConnection().catch((error: unknown) => {
    throw convert(error);
  });
  try {
    knex.emit('query', event);
    const result = await connection.query({ name: statement.name, text: statement.text, values });
    knex.emit('query-response', result.rows, event);
    return result.rows as R[];
  } catch (error) {
    knex.emit('query-error', error, event);
    throw convert(error);
  } finally {
    await client.releaseConnection(connection);
  }
}

/** A `where` clause and its parameters, numbered from `$1`, for statements run by {@link readRows}. */
export class SqlConditions {
  readonly parts: string[] = [];
  readonly values: unknown[] = [];

  /** Adds a parameter and returns its placeholder. */
  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  add(condition: string): void {
    this.parts.push(condition);
  }

  get where(): string {
    return this.parts.length ? `where ${this.parts.join(' and ')}` : '';
  }
}
