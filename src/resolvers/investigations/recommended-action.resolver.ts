import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../context';
import { RecommendedAction } from '../../entities/recommended-action.entity';
import { User } from '../../entities/user.entity';

@Resolver(() => RecommendedAction)
export class RecommendedActionResolver {
  @FieldResolver(() => User, { nullable: true, description: 'Who is to carry it out' })
  owner(@Root() action: RecommendedAction, @Ctx() ctx: Context): Promise<User | null> | null {
    return action.ownerId ? ctx.loaders.userById.load(action.ownerId) : null;
  }
}
