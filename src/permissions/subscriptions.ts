import { isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from 'graphql';
import type { RuleFieldMap, ShieldRule } from './rules';
import type { Context } from '../context';
import { denyAccess } from './denials';

interface GuardOptions {
  allowExternalErrors: boolean;
  debug: boolean;
  fallbackRule: ShieldRule;
}

/**
 * graphql-middleware wraps a subscription field's `resolve` but not its `subscribe`, so without
 * this an unauthorised client would get an open stream with an error per event. Each Subscription
 * field's `subscribe` is wrapped with the field's rule from the permission map: no stream opens
 * without permission. Mutates and returns `schema`.
 */
export function guardSubscriptions(schema: GraphQLSchema, rules: RuleFieldMap, options: GuardOptions): GraphQLSchema {
  const type = schema.getSubscriptionType();
  if (!type || !isObjectType(type)) return schema;
  for (const field of Object.values(type.getFields())) {
    const subscribe = field.subscribe;
    if (!subscribe) continue;
    const fieldRule = rules[field.name] ?? options.fallbackRule;
    const guarded: GraphQLFieldResolver<unknown, Record<string, unknown>> = async (parent, args, ctx, info) => {
      const shieldCtx = ctx as { _shield?: { cache: Record<string, unknown> } };
      shieldCtx._shield ??= { cache: {} };
      const result = await fieldRule.resolve(parent as object, args, shieldCtx as never, info, {
        ...options,
        hashFunction: ({ parent: p, args: a }: { parent: unknown; args: unknown }) => JSON.stringify([p, a]),
      });
      if (result instanceof Error) throw result;
      if (result !== true) throw await denyAccess(ctx as unknown as Context, info, 'fallback:deny');
      return subscribe(parent, args, ctx, info);
    };
    field.subscribe = guarded;
  }
  return schema;
}
