import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../context';
import { Note } from '../../entities/note.entity';
import { User } from '../../entities/user.entity';

@Resolver(() => Note)
export class NoteResolver {
  @FieldResolver(() => User, { nullable: true, description: 'Null once the author is gone' })
  author(@Root() note: Note, @Ctx() ctx: Context): Promise<User | null> | null {
    return note.authorId ? ctx.loaders.userById.load(note.authorId) : null;
  }
}
