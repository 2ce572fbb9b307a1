import { FieldResolver, ID, Resolver, type ClassType } from 'type-graphql';
import { typedId } from '../../schema/node';

/**
 * A resolver giving every object of `type` the singleton id `<typename>` (see `schema/node.ts`):
 * for reports a service makes afresh each time, which a client cache should still merge into one
 * record.
 */
export function singletonIdResolver(type: ClassType, typename: string): ClassType {
  const id = typedId(typename);

  @Resolver(() => type)
  class SingletonIdResolver {
    @FieldResolver(() => ID, { description: `Always \`${id}\`: there is one ${typename}, and each answer is its current state` })
    id(): string {
      return id;
    }
  }
  Object.defineProperty(SingletonIdResolver, 'name', { value: `${typename}IdResolver` });
  return SingletonIdResolver;
}
