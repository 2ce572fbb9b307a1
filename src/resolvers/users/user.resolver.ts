import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { requestMeta, type Context } from '../../context';
import { User } from '../../entities/user.entity';
import { ConnectionArgs, type Page } from '../../schema/connection';
import { listDirection } from '../../schema/list-order';
import { CreateUserInput, UpdateUserInput, UserConnection, UserFilter, userListFilter, UserOrder } from './user.types';

@Resolver(() => User)
export class UserResolver {
  @Query(() => UserConnection, { nullable: true, description: 'ADMIN_ACCESS (null with FORBIDDEN otherwise): every account, newest first' })
  users(
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Ctx() ctx: Context,
    @Arg('filter', () => UserFilter, { nullable: true, description: 'Narrows the list; all given conditions must hold' }) filter?: UserFilter | null,
    @Arg('orderBy', () => UserOrder, { nullable: true, description: 'The order; newest first when omitted' }) orderBy?: InstanceType<typeof UserOrder> | null,
  ): Promise<Page<User>> {
    return ctx.services.users.list({ ...page, filter: userListFilter(filter), direction: listDirection(orderBy) });
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
