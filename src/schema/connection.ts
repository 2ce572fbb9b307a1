import { Field, Int, ObjectType, type ClassType } from 'type-graphql';
import { BadUserInputError } from '../errors';
import { isUuid } from '../infra/ids';

/** Relay page information. */
@ObjectType({ simpleResolvers: true })
export class PageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

/** One page of a list, as every connection field returns it. */
export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: PageInfo;
  totalCount: number;
}

/**
 * Declares the `<Name>Connection` and `<Name>Edge` types for a node type:
 * `edges { cursor node }`, `pageInfo { hasNextPage endCursor }`, `totalCount`.
 */
export function ConnectionType<T extends object>(node: ClassType<T>, name: string): ClassType<Page<T>> {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class Edge {
    @Field()
    cursor!: string;

    @Field(() => node)
    node!: T;
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true, description: `A page of ${name} items, newest first unless ordered otherwise` })
  class Connection implements Page<T> {
    @Field(() => [Edge])
    edges!: Edge[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int)
    totalCount!: number;
  }
  return Connection;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** `first` as API.md defines it: 20 by default, 1–100, anything else is BAD_USER_INPUT. */
export function pageSize(first: number | null | undefined, max = MAX_PAGE_SIZE): number {
  if (first === null || first === undefined) return Math.min(DEFAULT_PAGE_SIZE, max);
  if (!Number.isInteger(first) || first < 0 || first > max) {
    throw new BadUserInputError(`first must be between 0 and ${max}`, 'first', { max });
  }
  return first;
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
export function decodeCursor(cursor: string, arity: number, argument = 'after'): CursorValues {
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
 * Builds a page from rows fetched with `limit first + 1` (the extra row only tells whether
 * another page follows).
 */
export function toPage<T>(rows: T[], first: number, cursorOf: (row: T) => CursorValues, totalCount: number): Page<T> {
  const nodes = rows.length > first ? rows.slice(0, first) : rows;
  const edges = nodes.map((node) => new LazyEdge(node, cursorOf));
  const last = edges.at(-1);
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      get endCursor(): string | null {
        return last?.cursor ?? null;
      },
    },
    totalCount,
  };
}
