import { defaultFieldResolver, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { dependencyUnavailable } from '../errors';
import { isDependencyOutage } from '../infra/outage';

function wrapFields(type: GraphQLObjectType | null | undefined): void {
  if (!type) return;
  for (const field of Object.values(type.getFields())) {
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = async (source, args, context, info) => {
      try {
        return await resolve(source, args, context, info);
      } catch (error) {
        throw isDependencyOutage(error) ? dependencyUnavailable() : error;
      }
    };
  }
}

/**
 * Root query and mutation fields answer a dependency outage (PostgreSQL or Redis unreachable) with
 * SERVICE_UNAVAILABLE as a typed error of their own, before the permission middleware sees it:
 * graphql-shield hands a resolver's error on as a value, which graphql-js recognises as an error
 * only when it is an `Error` of its own realm, and a driver's socket error may not be (node's core
 * errors under a test runner's sandbox). `formatError` maps the same errors for nested fields.
 * Mutates and returns `schema`.
 */
export function reportOutages(schema: GraphQLSchema): GraphQLSchema {
  wrapFields(schema.getQueryType());
  wrapFields(schema.getMutationType());
  return schema;
}
