import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Ctx, ID, Info, Query, Resolver } from 'type-graphql';
import type { Context } from '../../context';
import { BadUserInputError } from '../../errors';
import { denyAccess } from '../../permissions';
import { maySeeEveryNodeOf, maySeeNode, nodeRules } from '../../permissions/node-policy';
import { markNode, Node, parseNodeId } from '../../schema/node';
import { NODE_TABLES } from '../../services/nodes/node-lookup';
import { ROW_NODE_SOURCES, TYPED_NODE_SOURCES } from './node.sources';

/** At most this many ids per `nodes` call (like a page). */
export const MAX_NODE_IDS = 100;

const rowSources = new Map(ROW_NODE_SOURCES.map((source) => [source.typename, source]));
const typedSources = new Map(TYPED_NODE_SOURCES.map((source) => [source.typename, source]));
const ROW_TYPES = Object.keys(NODE_TABLES);

/** The same message whether the object is denied or does not exist: the answer tells neither. */
const DENIED = 'You may not see this object, or it does not exist';

/**
 * The objects of `ids`, each either the object (typed for the `Node` interface), null, or the
 * error that takes its place. Row ids cost one statement to find their types, then one per type
 * to load the objects; nothing is loaded of a type the viewer may not see.
 */
async function resolveNodes(ctx: Context, info: GraphQLResolveInfo, ids: readonly string[]): Promise<(object | null | Error)[]> {
  const denials = new Map<string, Promise<Error>>();
  const deny = (reason: string): Promise<Error> => {
    let denial = denials.get(reason);
    if (!denial) {
      denial = denyAccess(ctx, info, reason, DENIED);
      denials.set(reason, denial);
    }
    return denial;
  };
  // Nothing: null where the viewer may see every object of every type such an id could name.
  const nothing = (typenames: Iterable<string>): null | Promise<Error> => (maySeeEveryNodeOf(ctx.viewer, typenames) ? null : deny('node:unknown'));
  const typeAllowed = (typename: string) => Boolean(nodeRules[typename]?.every(ctx.viewer) || nodeRules[typename]?.object);

  const parsed = ids.map(parseNodeId);
  const rowIds = [...new Set(parsed.flatMap((p) => (p?.kind === 'row' ? [p.id] : [])))];
  const types = new Map<string, string | null>();
  if (rowIds.length) {
    const found = await ctx.loaders.nodeTypeById.loadMany(rowIds);
    rowIds.forEach((id, i) => {
      const type = found[i];
      if (type instanceof Error) throw type;
      types.set(id, type ?? null);
    });
  }

  // One load per row type, for the ids of that type the viewer may see at all.
  const byType = new Map<string, string[]>();
  for (const [id, type] of types) if (type && typeAllowed(type)) byType.set(type, [...(byType.get(type) ?? []), id]);
  const objects = new Map<string, object | null>();
  await Promise.all(
    [...byType].map(async ([type, typeIds]) => {
      const source = rowSources.get(type);
      const loaded = source ? await source.load(ctx, typeIds) : typeIds.map(() => null);
      typeIds.forEach((id, i) => objects.set(id, loaded[i] ?? null));
    }),
  );

  return Promise.all(
    parsed.map(async (p): Promise<object | null | Error> => {
      if (!p) return nothing(ROW_TYPES);
      if (p.kind === 'row') {
        const type = types.get(p.id) ?? null;
        if (!type) return nothing(ROW_TYPES);
        if (!typeAllowed(type)) return deny(`node:${type}`);
        const value = objects.get(p.id) ?? null;
        if (!value) return nothing(ROW_TYPES);
        return maySeeNode(ctx.viewer, type, value) ? markNode(value, type) : deny(`node:${type}`);
      }
      const source = typedSources.get(p.typename);
      if (!source) return nothing(ROW_TYPES);
      if (!typeAllowed(p.typename)) return deny(`node:${p.typename}`);
      const value = await source.load(ctx, p.key);
      if (!value) return nothing([p.typename]);
      return maySeeNode(ctx.viewer, p.typename, value) ? markNode(value, p.typename) : deny(`node:${p.typename}`);
    }),
  );
}

/**
 * Relay's object identification: any object with identity by its id, under the same rules as the
 * object's own query. A denied object and a missing one answer alike (null with FORBIDDEN, or
 * UNAUTHENTICATED without a token) for a caller who may not see every object such an id could
 * name; a caller who could see it gets null without an error for a missing one.
 */
@Resolver()
export class NodeResolver {
  @Query(() => Node, {
    nullable: true,
    description: "Any object by its id, under the same permissions as the object's own query; null with FORBIDDEN when denied",
  })
  async node(
    @Arg('id', () => ID, { description: 'An id any object of the schema gave out' }) id: string,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<object | null> {
    const [result] = await resolveNodes(ctx, info, [id]);
    if (result instanceof Error) throw result;
    return result ?? null;
  }

  @Query(() => [Node], {
    nullable: 'items',
    description: 'Objects by id, in the order of `ids` (at most 100), each as `node` answers it: null with an error where denied',
  })
  nodes(
    @Arg('ids', () => [ID], { description: 'At most 100 ids' }) ids: string[],
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<(object | null | Error)[]> {
    if (ids.length > MAX_NODE_IDS) throw new BadUserInputError(`nodes takes at most ${MAX_NODE_IDS} ids`, 'ids', { max: MAX_NODE_IDS });
    return resolveNodes(ctx, info, ids);
  }
}
