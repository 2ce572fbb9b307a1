import 'reflect-metadata';
import { printSchema, type GraphQLSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildSchema } from 'type-graphql';
import { permissionsFor, redactions, ruleTree, shieldOptions } from '../permissions';
import { guardSubscriptions } from '../permissions/subscriptions';
import { RESOLVERS } from '../resolvers';
import './enums';
import { reportOutages } from './outage-errors';
import { scalarsMap } from './scalars';

/** The schema as the classes declare it, without permissions: what `schema.graphql` prints. */
export function buildTypeSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: RESOLVERS,
    scalarsMap,
    // Subscriptions bring their own `subscribe` functions; type-graphql still insists on a PubSub.
    pubSub: createPubSub(),
    validate: { forbidUnknownValues: false, validationError: { target: false, value: false } },
  });
}

/** The executable schema: type-graphql classes, the permission map, and guarded subscriptions. */
export async function buildVigilSchema(): Promise<GraphQLSchema> {
  const typeSchema = reportOutages(await buildTypeSchema());
  const schema = applyMiddleware(typeSchema, permissionsFor(typeSchema), redactions);
  return guardSubscriptions(schema, ruleTree.Subscription, shieldOptions);
}

/**
 * The SDL checked in as `schema.graphql`, in the code's order (not sorted): enum values read in
 * their declared order (lowest first), fields and arguments as the classes declare them.
 */
export async function printVigilSchema(): Promise<string> {
  return `${printSchema(await buildTypeSchema())}\n`;
}
