import { ArgsType, Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { BadUserInputError } from '../errors';
import { isUuid } from '../infra/ids';

/**
 * Relay page information (cursor-connections specification): whether more items follow or precede
 * the page, and the cursors of its first and last edge.
 */
@ObjectType({ simpleResolvers: true, description: 'Where a page of a connection sits in the whole list' })
export class PageInfo {
  @Field({ description: 'Whether items follow this page (paging forward: exactly; paging backward: whether `before` was given)' })
  hasNextPage!: boolean;

  @Field({ description: 'Whether items precede this page (paging backward: exactly; paging forward: whether `after` was given)' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: "The first edge's cursor; null for an empty page" })
  startCursor!: string | null;

  @Field(() => String, { nullable: true, description: "The last edge's cursor; null for an empty page" })
  endCursor!: string | null;
}

/** One page of a list, as every connection field returns it. */
export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
  totalCount: number;
}

/**
 * The Relay arguments every connection field takes: forward with `first`/`after`, backward with
 * `last`/`before` (not both directions at once). Use with `@Args(() => ConnectionArgs)` and read it
 * with {@link pageWindow}.
 */
@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, { nullable: true, description: 'Paging forward: at most this many items (0–100; 20 when neither `first` nor `last` is given)' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'Paging forward: the items after this cursor' })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: 'Paging backward: at most this many items (0–100; 20 when only `before` is given)' })
  last?: number | null;

  @Field(() => String, { nullable: true, description: 'Paging backward: the items before this cursor' })
  before?: string | null;
}

/**
 * Declares the `<Name>Connection` and `<Name>Edge` types for a node type:
 * `edges { cursor node }`, `pageInfo { hasNextPage hasPreviousPage startCursor endCursor }`,
 * `totalCount`. `order` describes the list's default order for the connection's description.
 */
export function ConnectionType<T extends object>(node: ClassType<T>, name: string, order = 'newest first unless ordered otherwise'): ClassType<Page<T>> {
  @ObjectType(`${name}Edge`, { simpleResolvers: true, description: `One ${name} of a ${name}Connection page, with its cursor` })
  class Edge {
    @Field({ description: 'Opaque; pass it as `after` or `before` to page from this item' })
    cursor!: string;

    @Field(() => node, { description: `The ${name}` })
    node!: T;
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true, description: `A page of ${name} items, ${order}` })
  class Connection implements Page<T> {
    @Field(() => [Edge], { description: 'The items of this page, in list order' })
    edges!: Edge[];

    @Field(() => PageInfo, { description: 'Cursors and whether more items follow or precede' })
    pageInfo!: PageInfo;

    @Field(() => Int, { description: 'How many items the whole list holds under the given filter' })
    totalCount!: number;
  }
  return Connection;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** The page size a connection argument asks for: 20 when absent, an integer from 0 to `max` (100), anything else is BAD_USER_INPUT. */
export function pageSize(first: number | null | undefined, max = MAX_PAGE_SIZE, argument: 'first' | 'last' = 'first'): number {
  if (first === null || first === undefined) return Math.min(DEFAULT_PAGE_SIZE, max);
  if (!Number.isInteger(first) || first < 0 || first > max) {
    throw new BadUserInputError(`${argument} must be between 0 and ${max}`, argument, { max });
  }
  return first;
}

/** A connection field's arguments as services take them. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/**
 * Which page a connection's arguments ask for. A list reads it by keyset: forward, the `size`
 * rows after `cursor` in list order; backward, the `size` rows before it, which SQL reads in the
 * reverse order (nearest the cursor first) and {@link toPage} puts back in list order. Both
 * directions are one statement of the same shape.
 */
export interface PageWindow {
  /** At most this many items. */
  size: number;
  /** The cursor the page starts from, exclusive (`after` forward, `before` backward); null: from the list's end. */
  cursor: string | null;
  /** Whether the page was asked for with `last`/`before`. */
  backward: boolean;
}

/**
 * The window of `first`/`after` or `last`/`before`: 20 items by default, 0–100 (`max`), and
 * BAD_USER_INPUT when both directions are mixed (`first` with `last` or `before`, `after` with
 * `last` or `before`).
 */
export function pageWindow(args: PageArgs, max = MAX_PAGE_SIZE): PageWindow {
  const forward = isSet(args.first) || isSet(args.after);
  const backward = isSet(args.last) || isSet(args.before);
  if (forward && backward) {
    throw new BadUserInputError('Page forward (first/after) or backward (last/before), not both', isSet(args.last) ? 'last' : 'before');
  }
  if (backward) return { size: pageSize(args.last, max, 'last'), cursor: args.before ?? null, backward: true };
  return { size: pageSize(args.first, max), cursor: args.after ?? null, backward: false };
}

const isSet = (value: unknown) => value !== null && value !== undefined;

/** The window of a plain forward page (`first`/`after`). */
export function forwardWindow(size: number, cursor: string | null): PageWindow {
  return { size, cursor, backward: false };
}

/** The argument a window's cursor came from, to name it in errors. */
export const cursorArgument = (window: PageWindow): 'after' | 'before' => (window.backward ? 'before' : 'after');

/** Equal for equal windows: a key for loaders that share one statement per page asked for. */
export const windowKey = (window: PageWindow): string => `${window.backward ? '<' : '>'}${window.size}|${window.cursor ?? '-'}`;

/**
 * The SQL of a keyset walk for a list ordered `listOrder`: the direction to sort rows in, and the
 * comparison a row's sort key must pass against the cursor's. Backward windows walk the other way.
 */
export function keysetSql(listOrder: 'asc' | 'desc', window: PageWindow): { order: 'asc' | 'desc'; op: '<' | '>' } {
  const descending = (listOrder === 'desc') !== window.backward;
  return descending ? { order: 'desc', op: '<' } : { order: 'asc', op: '>' };
}

/**
 * The SQL `limit` of a page: one more row than `first`, which tells whether another page follows.
 * Read statements write it into their text rather than pass it as a parameter: a prepared
 * statement's generic plan does not know a parameter's value, and planned for an unknown limit it
 * sorts the whole table instead of reading the first rows of an index. `first` must be what
 * {@link pageSize} accepts.
 */
export function pageLimit(first: number): number {
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) throw new Error(`invalid page size ${first}`);
  return first + 1;
}

/** Cursor values: the sort key(s) of a row, ending with its id. */
export type CursorValues = (string | number)[];

/** An opaque cursor for a row's sort values. */
export function encodeCursor(values: CursorValues): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/**
 * Reads a cursor made by {@link encodeCursor}; a tampered or foreign cursor is BAD_USER_INPUT
 * naming `argument` (`after` unless given). Values are short strings without U+0000 or finite
 * numbers, and a cursor of a sort key and an id ends with a well-formed id (a UUID), so nothing
 * malformed reaches PostgreSQL, which would answer it with an error rather than an empty page.
 */
export function decodeCursor(cursor: string, arity: number, argument: 'after' | 'before' = 'after'): CursorValues {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(values) &&
      values.length === arity &&
      values.every((v) => (typeof v === 'string' && v.length <= 200 && !v.includes('\u0000')) || (typeof v === 'number' && Number.isFinite(v))) &&
      (arity < 2 || isUuid(values[arity - 1]))
    ) {
      return values as CursorValues;
    }
  } catch {
    // fall through to the error below
  }
  throw new BadUserInputError(`${argument} is not a cursor this list gave out`, argument);
}

/**
 * An edge whose cursor is encoded when read: most responses select few of them (a nested page of
 * findings often none), and encoding every one was a visible share of a read's CPU time. The
 * getter lives on the prototype, so an edge is two fields and no closure.
 */
class LazyEdge<T> {
  private encoded: string | undefined = undefined;

  constructor(
    readonly node: T,
    private readonly cursorOf: (row: T) => CursorValues,
  ) {}

  get cursor(): string {
    return (this.encoded ??= encodeCursor(this.cursorOf(this.node)));
  }
}

/**
 * Builds a page from rows fetched with `limit size + 1` in walk order (see {@link PageWindow}):
 * the extra row only tells whether more items lie beyond the page; a backward page is put back in
 * list order. `window` may be a plain `first` for a forward page from the start.
 */
export function toPage<T>(rows: T[], window: number | PageWindow, cursorOf: (row: T) => CursorValues, totalCount: number): Page<T> {
  const { size, cursor, backward } = typeof window === 'number' ? forwardWindow(window, null) : window;
  const more = rows.length > size;
  const nodes = rows.slice(0, size);
  if (backward) nodes.reverse();
  const edges = nodes.map((node) => new LazyEdge(node, cursorOf));
  const first = edges[0];
  const last = edges.at(-1);
  return {
    edges,
    pageInfo: {
      hasNextPage: backward ? cursor !== null : more,
      hasPreviousPage: backward ? more : cursor !== null,
      get startCursor(): string | null {
        return first?.cursor ?? null;
      },
      get endCursor(): string | null {
        return last?.cursor ?? null;
      },
    },
    totalCount,
  };
}
