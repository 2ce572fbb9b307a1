import { Field, Float, ID, ObjectType } from 'type-graphql';
import { HealthStatus } from '../../schema/enums';
import { Node, typedId } from '../../schema/node';

/** The id of the one `Health` object: every health report is a new state of it. */
export const HEALTH_ID = typedId('Health');

/** The id of a health component: one per component name. */
export const healthComponentId = (name: string): string => typedId('HealthComponent', name);

@ObjectType({ simpleResolvers: true, implements: Node, description: 'One dependency of the gateway and how it is doing' })
export class HealthComponent {
  @Field(() => ID, { description: '`HealthComponent:<name>`' })
  id!: string;

  @Field({ description: 'database, redis, eventLoop, memory, disk, backups, auditChain …' })
  name!: string;

  @Field(() => HealthStatus, { description: 'How the component is doing' })
  status!: HealthStatus;

  @Field(() => Float, { nullable: true, description: 'How long the check took, in milliseconds' })
  latencyMs?: number | null;

  @Field(() => String, { nullable: true, description: 'What the check saw, when it has something to say' })
  detail?: string | null;
}

@ObjectType({ simpleResolvers: true, implements: Node, description: 'Overall health; components and details need ADMIN_ACCESS' })
export class Health {
  @Field(() => ID, { description: 'Always `Health`: a report is the current state of the one Health object, so pushes update cached queries' })
  id!: string;

  @Field(() => HealthStatus, { description: 'DOWN when a critical component is down, DEGRADED when any component is not UP' })
  status!: HealthStatus;

  @Field({ description: 'When the report was made' })
  checkedAt!: Date;

  @Field(() => [HealthComponent], { nullable: true, description: 'Null for callers without ADMIN_ACCESS' })
  components?: HealthComponent[] | null;
}
