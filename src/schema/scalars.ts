import { GraphQLScalarType } from 'graphql';
import { BigIntResolver, DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { BuildSchemaOptions } from 'type-graphql';

type ScalarsTypeMap = NonNullable<BuildSchemaOptions['scalarsMap']>[number];

/**
 * graphql-scalars' DateTime, answering with the ISO string itself. Its own `serialize` hands back
 * the Date and leaves the string to `JSON.stringify`, which calls `toJSON` on every date: objects
 * with a `toJSON` take V8's slow serialisation path, and a page of investigations carries hundreds
 * of dates. Same name, description, input parsing and output text.
 */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  ...DateTimeResolver.toConfig(),
  serialize(value) {
    if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
    return (DateTimeResolver.serialize(value) as Date).toISOString();
  },
});

export { BigIntResolver as BigIntScalar, JSONResolver as JSONScalar };

/** TypeScript types that map to a scalar without an explicit `() => Scalar`. */
export const scalarsMap: ScalarsTypeMap[] = [{ type: Date, scalar: DateTimeScalar }];
