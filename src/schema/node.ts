import { Field, ID, InterfaceType } from 'type-graphql';
import { isUuid } from '../infra/ids';

/**
 * Relay's `Node`: every object with identity implements it, so a client's normalised cache keys it
 * by `id` and `node(id:)` fetches it again. Ids are unique across all types:
 *
 * - a stored row keeps its UUID (the ids handed out before `Node` existed stay valid); UUIDs are
 *   random, and `node` finds the table that holds one with one statement over every table's
 *   primary key (see `resolvers/node`);
 * - an object that is not a row has a typed id, `<Type>` for a singleton (`Health`,
 *   `CacheStats` …) or `<Type>:<key>` for one of several (`HealthComponent:database`,
 *   `BackupProgress:<backup id>`), which never looks like a UUID.
 *
 * The GraphQL type of a value is what {@link markNode} said (see {@link resolveNodeType}).
 */
@InterfaceType('Node', { description: 'An object with an id unique across all types; `node(id:)` finds it again' })
export abstract class Node {
  @Field(() => ID, { description: 'Unique across all types; a stored object keeps its UUID' })
  id!: string;
}

const nodeTypes = new WeakMap<object, string>();

/**
 * The `Node` interface's type resolver, installed on the built schema (`schema/build.ts`): the
 * type {@link markNode} recorded. Synchronous on purpose: type-graphql wraps a resolver given to
 * the decorator in an async function, and graphql-jit, which runs repeated documents
 * (`schema/executor.ts`), fails on a promised type.
 */
export function resolveNodeType(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? nodeTypes.get(value) : undefined;
}

/**
 * Names the GraphQL type of a value that is not an instance of its type's class (a service's
 * plain report object), so a `Node` field can resolve it. Returns the value.
 */
export function markNode<T extends object>(value: T, typename: string): T {
  nodeTypes.set(value, typename);
  return value;
}

/** The id of a singleton (`Health`) or of one of several objects of a type (`HealthComponent:database`). */
export function typedId(typename: string, key?: string): string {
  return key === undefined ? typename : `${typename}:${key}`;
}

/**
 * The id under which answers give the row that `id` names. PostgreSQL reads a UUID in any case and
 * answers in lowercase; a deletion passes this spelling on, so its answer names the record a
 * client cache holds, its audit entry the resource every other entry names, and a revoked
 * session's event the id the token checks know (a capitalised id once left the token working).
 */
export function rowId(id: string): string {
  return isUuid(id) ? id.toLowerCase() : id;
}

/** What an id names: a row (by UUID, type unknown until looked up) or a typed id's type and key. */
export type ParsedNodeId = { kind: 'row'; id: string } | { kind: 'typed'; typename: string; key: string | null };

/** Reads an id given to `node`/`nodes`; null when it cannot be an id Vigil hands out. */
export function parseNodeId(id: string): ParsedNodeId | null {
  if (isUuid(id)) return { kind: 'row', id: id.toLowerCase() };
  const match = /^([A-Z][A-Za-z]{0,63})(?::(.{1,200}))?$/s.exec(id);
  return match ? { kind: 'typed', typename: match[1]!, key: match[2] ?? null } : null;
}
