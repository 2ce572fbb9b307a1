import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../context';
import { Note } from '../../entities/note.entity';
import { Investigation } from '../../entities/investigation.entity';
import { User } from '../../entities/user.entity';
import { investigationOf } from './investigation-of';

@Resolver(() => Note)
export class NoteResolver {
  @FieldResolver(() => Investigation, {
    description: 'The investigation it belongs to, as it is now (after a mutation: with its new `updatedAt` and counts)',
  })
  investigation(@Root() child: { investigationId: string }, @Ctx() ctx: Context): Investigation | Promise<Investigation> {
    return investigationOf(ctx, child.investigationId);
  }

  @FieldResolver(() => User, { nullable: true, description: 'Null once the author is gone' })
  author(@Root() note: Note, @Ctx() ctx: Context): Promise<User | null> | null {
    return note.authorId ? ctx.loaders.userById.load(note.authorId) : null;
  }
}
