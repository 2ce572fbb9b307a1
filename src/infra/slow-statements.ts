import type { Knex } from '@mikro-orm/postgresql';

/** One statement text seen slower than the threshold, aggregated. */
export interface SlowStatement {
  /** The SQL with its values replaced by `?` (they may hold personal data). */
  statement: string;
  count: number;
  maxMs: number;
  meanMs: number;
  lastSeenAt: Date;
}

interface QueryEvent {
  __knexQueryUid?: string;
  sql?: string;
}

const MAX_STATEMENT_LENGTH = 1000;

/**
 * The statement's shape without its values. MikroORM inlines parameters into the SQL it sends, so
 * the text carries e-mail addresses, password hashes and other data that must not be shown;
 * literals become `?` (which also folds executions with different values into one entry).
 */
export function normalizeStatement(sql: string): string {
  return sql
    .replace(/\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g, '?')
    .replace(/\b[eE]'(?:[^'\\]|\\.|'')*'/g, '?')
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/(?<![\w$."])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b/g, '?')
    .replace(/\(\s*\?(?:\s*,\s*\?)+\s*\)/g, '(?, …)')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_STATEMENT_LENGTH);
}
/** Timings of statements that never report back are forgotten past this many in flight. */
const MAX_IN_FLIGHT = 10_000;

/**
 * Times every statement the gateway sends through knex (its `query` / `query-response` /
 * `query-error` events) and keeps the slowest statement texts in memory. Stands in for
 * `pg_stat_statements`, which managed databases often do not offer.
 */
export class SlowStatementTracker {
  private readonly started = new Map<string, number>();
  private readonly slow = new Map<string, { count: number; maxMs: number; totalMs: number; lastSeenAt: Date }>();
  private detach?: () => void;

  constructor(
    readonly thresholdMs: number,
    private readonly keep: number,
  ) {}

  /** Starts listening to a knex instance's statement events. */
  attach(knex: Knex): void {
    const onQuery = (data: QueryEvent) => {
      if (!data.__knexQueryUid) return;
      if (this.started.size >= MAX_IN_FLIGHT) this.started.clear();
      this.started.set(data.__knexQueryUid, performance.now());
    };
    const onDone = (_response: unknown, data: QueryEvent) => {
      const uid = data?.__knexQueryUid;
      if (!uid) return;
      const at = this.started.get(uid);
      this.started.delete(uid);
      if (at !== undefined && data.sql) this.record(data.sql, performance.now() - at);
    };
    knex.on('query', onQuery);
    knex.on('query-response', onDone);
    knex.on('query-error', onDone);
    this.detach = () => {
      knex.off('query', onQuery);
      knex.off('query-response', onDone);
      knex.off('query-error', onDone);
    };
  }

  stop(): void {
    this.detach?.();
    this.started.clear();
  }

  /** Records one statement's duration; kept when at least the threshold. */
  record(sql: string, durationMs: number): void {
    if (durationMs < this.thresholdMs) return;
    const statement = normalizeStatement(sql);
    const entry = this.slow.get(statement) ?? { count: 0, maxMs: 0, totalMs: 0, lastSeenAt: new Date() };
    entry.count++;
    entry.maxMs = Math.max(entry.maxMs, durationMs);
    entry.totalMs += durationMs;
    entry.lastSeenAt = new Date();
    this.slow.set(statement, entry);
    if (this.slow.size > this.keep) {
      let fastest: string | undefined;
      let fastestMs = Infinity;
      for (const [text, e] of this.slow) {
        if (e.maxMs < fastestMs) {
          fastest = text;
          fastestMs = e.maxMs;
        }
      }
      if (fastest !== undefined) this.slow.delete(fastest);
    }
  }

  /** The slowest statements seen, slowest first. */
  top(): SlowStatement[] {
    return [...this.slow.entries()]
      .map(([statement, e]) => ({
        statement,
        count: e.count,
        maxMs: Math.round(e.maxMs * 100) / 100,
        meanMs: Math.round((e.totalMs / e.count) * 100) / 100,
        lastSeenAt: e.lastSeenAt,
      }))
      .sort((a, b) => b.maxMs - a.maxMs);
  }
}
