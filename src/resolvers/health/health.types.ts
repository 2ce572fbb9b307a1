import { Field, Float, ObjectType } from 'type-graphql';
import { HealthStatus } from '../../schema/enums';

@ObjectType({ simpleResolvers: true, description: 'One dependency of the gateway and how it is doing' })
export class HealthComponent {
  @Field()
  name!: string;

  @Field(() => HealthStatus)
  status!: HealthStatus;

  @Field(() => Float, { nullable: true, description: 'How long the check took' })
  latencyMs?: number | null;

  @Field(() => String, { nullable: true })
  detail?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'Overall health; components and details need ADMIN_ACCESS' })
export class Health {
  @Field(() => HealthStatus)
  status!: HealthStatus;

  @Field()
  checkedAt!: Date;

  @Field(() => [HealthComponent], { nullable: true, description: 'Null for callers without ADMIN_ACCESS' })
  components?: HealthComponent[] | null;
}
