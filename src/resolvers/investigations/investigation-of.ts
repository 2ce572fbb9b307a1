import type { Context } from '../../context';
import type { Investigation } from '../../entities/investigation.entity';
import { NotFoundError } from '../../errors';

/**
 * The investigation a child (finding, action, note, alert) points to, through the request's
 * loader: a page of children costs one statement for all their parents. A child always has its
 * parent (they are deleted together), so a missing one is NOT_FOUND.
 */
export function investigationOf(ctx: Context, id: string): Investigation | Promise<Investigation> {
  const known = (investigation: Investigation | null): Investigation => {
    if (!investigation) throw new NotFoundError('Investigation', id);
    return investigation;
  };
  const found = ctx.loaders.investigationById.get(id);
  return found instanceof Promise ? found.then(known) : known(found);
}
