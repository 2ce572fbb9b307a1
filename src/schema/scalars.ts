import { BigIntResolver, DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type { BuildSchemaOptions } from 'type-graphql';

type ScalarsTypeMap = NonNullable<BuildSchemaOptions['scalarsMap']>[number];

export { BigIntResolver as BigIntScalar, DateTimeResolver as DateTimeScalar, JSONResolver as JSONScalar };

/** TypeScript types that map to a scalar without an explicit `() => Scalar`. */
export const scalarsMap: ScalarsTypeMap[] = [{ type: Date, scalar: DateTimeResolver }];
