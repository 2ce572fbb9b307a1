import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { requestMeta, type Context } from '../../context';
import { User } from '../../entities/user.entity';
import { ConnectionArgs, type Page } from '../../schema/connection';
import { CreateUserInput, UpdateUserInput, UserConnection } from './user.types';

@Resolver(() => User)
export class UserResolver {
  @Query(() => UserConnection, { nullable: true, description: 'ADMIN_ACCESS (null with FORBIDDEN otherwise): every account, newest first' })
  users(@Args(() => ConnectionArgs) page: ConnectionArgs, @Ctx() ctx: Context): Promise<Page<User>> {
    return ctx.services.users.list(page);
  }

  @Mutation(() => User, { description: 'ADMIN_ACCESS: creates an account with a role no higher than your own' })
  createUser(@Arg('input', () => CreateUserInput, { description: 'The new account' }) input: CreateUserInput, @Ctx() ctx: Context): Promise<User> {
    return ctx.services.users.create(requestMeta(ctx), input);
  }

  @Mutation(() => User, { description: 'ADMIN_ACCESS: changes name, role or disabled flag under the role rules' })
  updateUser(
    @Arg('id', () => ID, { description: "The user's id" }) id: string,
    @Arg('input', () => UpdateUserInput, { description: 'The changes; omitted fields stay as they are' }) input: UpdateUserInput,
    @Ctx() ctx: Context,
  ): Promise<User> {
    return ctx.services.users.update(requestMeta(ctx), id, input);
  }
}
