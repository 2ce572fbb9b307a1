import { PrimedLoader } from '../../infra/primed-loader';
import type { Finding } from '../../entities/finding.entity';
import { Investigation } from '../../entities/investigation.entity';
import type { Note } from '../../entities/note.entity';
import type { RecommendedAction } from '../../entities/recommended-action.entity';
import type { EntityManager } from '../../infra/db';
import { windowKey, type Page, type PageWindow } from '../../schema/connection';
import { FULL_FINDING_PAGE, loadActions, loadFindingPages, loadNotes, type FindingPageShape } from './investigation.queries';

/** Per-request loaders of an investigation's children, keyed by investigation id. */
export interface InvestigationLoaders {
  /**
   * Findings pages for one window (`first`/`after` or `last`/`before`) and shape (what the
   * selection reads; every field by default): all parents asking the same page share one statement.
   */
  investigationFindings(window: PageWindow, shape?: FindingPageShape): PrimedLoader<string, Page<Finding>>;
  investigationActions: PrimedLoader<string, RecommendedAction[]>;
  /** Investigations by id (null for an unknown id), one statement per tick: the parent of a child. */
  investigationById: PrimedLoader<string, Investigation | null>;
  investigationNotes: PrimedLoader<string, Note[]>;
}

export function createInvestigationLoaders(em: () => EntityManager): InvestigationLoaders {
  const findingLoaders = new Map<string, PrimedLoader<string, Page<Finding>>>();
  return {
    investigationFindings(window, shape = FULL_FINDING_PAGE) {
      const key = `${shape.key}|${windowKey(window)}`;
      let loader = findingLoaders.get(key);
      if (!loader) {
        loader = new PrimedLoader((ids) => loadFindingPages(em(), ids, { window, shape }));
        findingLoaders.set(key, loader);
      }
      return loader;
    },
    investigationActions: new PrimedLoader((ids) => loadActions(em(), ids)),
    investigationById: new PrimedLoader(async (ids) => {
      // Refreshed: after a mutation of a child the parent's `updatedAt` must be the new one.
      const rows = await em().find(Investigation, { id: { $in: [...ids] } }, { refresh: true });
      const byId = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    investigationNotes: new PrimedLoader((ids) => loadNotes(em(), ids)),
  };
}
