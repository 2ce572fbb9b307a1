import 'reflect-metadata';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { isInterfaceType, specifiedDirectives, type GraphQLSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildSchema } from 'type-graphql';
import { permissionsFor, redactions, ruleTree, shieldOptions } from '../permissions';
import { guardSubscriptions } from '../permissions/subscriptions';
import { RESOLVERS } from '../resolvers';
import './enums';
import { resolveNodeType } from './node';
import { reportOutages } from './outage-errors';
import { scalarsMap } from './scalars';
import { sensitiveDirective } from './sensitive';

/** The schema as the classes declare it, without permissions: what `schema.graphql` prints. */
export async function buildTypeSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers: RESOLVERS,
    scalarsMap,
    directives: [...specifiedDirectives, sensitiveDirective],
    // Subscriptions bring their own `subscribe` functions; type-graphql still insists on a PubSub.
    pubSub: createPubSub(),
    validate: { forbidUnknownValues: false, validationError: { target: false, value: false } },
  });
  const node = schema.getType('Node');
  if (isInterfaceType(node)) node.resolveType = resolveNodeType;
  // type-graphql has no option for the root types' descriptions.
  const roots = {
    Query: 'Reads. A field a caller may be denied is nullable: null with FORBIDDEN (or UNAUTHENTICATED) on its path, the rest of the answer intact',
    Mutation: 'Changes; each is audited, and refused with SERVICE_UNAVAILABLE while maintenance mode is on (except sign-in/out and settings)',
    Subscription: 'Live updates over graphql-ws (`graphql-transport-ws` on /graphql), checked at subscribe time',
  };
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (type) type.description = roots[type.name as keyof typeof roots];
  }
  return schema;
}

/** The executable schema: type-graphql classes, the permission map, and guarded subscriptions. */
export async function buildVigilSchema(): Promise<GraphQLSchema> {
  const typeSchema = reportOutages(await buildTypeSchema());
  const schema = applyMiddleware(typeSchema, permissionsFor(typeSchema), redactions);
  return guardSubscriptions(schema, ruleTree.Subscription, shieldOptions);
}

/**
 * The SDL checked in as `schema.graphql`, in the code's order (not sorted): enum values read in
 * their declared order (lowest first), fields and arguments as the classes declare them, and the
 * directives applied to definitions (`@sensitive`), which graphql-js's own printer leaves out.
 */
export async function printVigilSchema(): Promise<string> {
  return `${printSchemaWithDirectives(await buildTypeSchema())}\n`;
}
