import type { NonEmptyArray } from 'type-graphql';
import { HealthResolver } from './health/health.resolver';

/** Every resolver class of the schema; an area adds its own. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const RESOLVERS: NonEmptyArray<Function> = [HealthResolver];
