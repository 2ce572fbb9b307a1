import { Field, InputType, registerEnumType, type ClassType } from 'type-graphql';
import { OrderDirection } from './investigation.enums';

/** A list's order as services take it: the direction of the list's sort key (ties by id the same way). */
export type ListDirection = 'asc' | 'desc';

/** The direction of an `orderBy` argument; newest first (descending) when omitted. */
export function listDirection(orderBy: { direction?: OrderDirection | null } | null | undefined): ListDirection {
  return orderBy?.direction === OrderDirection.ASC ? 'asc' : 'desc';
}

/**
 * Declares `<Name>OrderField` (from `fields`, described) and the `<Name>Order` input
 * `{ field, direction }` every ordered list takes, as `investigations(orderBy:)` does: `field`
 * defaults to the first one, `direction` to DESC. A cursor belongs to the order it was given out for.
 */
export function ListOrderInput<F extends Record<string, string>>(
  name: string,
  fields: F,
  descriptions: Record<keyof F, string>,
  listDescription: string,
): ClassType<{ field: F[keyof F]; direction: OrderDirection }> {
  registerEnumType(fields, {
    name: `${name}OrderField`,
    description: `What \`${listDescription}(orderBy:)\` sorts on; ties are broken by id`,
    valuesConfig: Object.fromEntries(Object.entries(descriptions).map(([key, description]) => [key, { description }])) as never,
  });
  const first = Object.values(fields)[0] as F[keyof F];

  @InputType(`${name}Order`, { description: `How to sort \`${listDescription}\`; ties are broken by id in the same direction` })
  class Order {
    @Field(() => fields, { defaultValue: first, description: `What to sort on (${String(first)} when omitted)` })
    field!: F[keyof F];

    @Field(() => OrderDirection, { defaultValue: OrderDirection.DESC, description: 'Ascending or descending (DESC when omitted)' })
    direction!: OrderDirection;
  }
  return Order;
}
