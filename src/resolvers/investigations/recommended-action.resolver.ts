import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../context';
import { RecommendedAction } from '../../entities/recommended-action.entity';
import { Investigation } from '../../entities/investigation.entity';
import { User } from '../../entities/user.entity';
import { investigationOf } from './investigation-of';

@Resolver(() => RecommendedAction)
export class RecommendedActionResolver {
  @FieldResolver(() => Investigation, {
    description: 'The investigation it belongs to, as it is now (after a mutation: with its new `updatedAt` and counts)',
  })
  investigation(@Root() child: { investigationId: string }, @Ctx() ctx: Context): Investigation | Promise<Investigation> {
    return investigationOf(ctx, child.investigationId);
  }

  @FieldResolver(() => User, { nullable: true, description: 'Who is to carry it out' })
  owner(@Root() action: RecommendedAction, @Ctx() ctx: Context): Promise<User | null> | null {
    return action.ownerId ? ctx.loaders.userById.load(action.ownerId) : null;
  }
}
