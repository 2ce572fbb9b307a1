import { PrimedLoader } from '../../infra/primed-loader';
import type { Finding } from '../../entities/finding.entity';
import type { Note } from '../../entities/note.entity';
import type { RecommendedAction } from '../../entities/recommended-action.entity';
import type { EntityManager } from '../../infra/db';
import type { Page } from '../../schema/connection';
import { FULL_FINDING_PAGE, loadActions, loadFindingPages, loadNotes, type FindingPageShape } from './investigation.queries';

/** Per-request loaders of an investigation's children, keyed by investigation id. */
export interface InvestigationLoaders {
  /**
   * Findings pages for one `(first, after)` and shape (what the selection reads; every field by
   * default): all parents asking the same page share one statement.
   */
  investigationFindings(first: number, after: string | null, shape?: FindingPageShape): PrimedLoader<string, Page<Finding>>;
  investigationActions: PrimedLoader<string, RecommendedAction[]>;
  investigationNotes: PrimedLoader<string, Note[]>;
}

export function createInvestigationLoaders(em: () => EntityManager): InvestigationLoaders {
  const findingLoaders = new Map<string, PrimedLoader<string, Page<Finding>>>();
  return {
    investigationFindings(first, after, shape = FULL_FINDING_PAGE) {
      const key = `${first}|${shape.key}|${after === null ? '-' : `+${after}`}`;
      let loader = findingLoaders.get(key);
      if (!loader) {
        loader = new PrimedLoader((ids) => loadFindingPages(em(), ids, { first, after, shape }));
        findingLoaders.set(key, loader);
      }
      return loader;
    },
    investigationActions: new PrimedLoader((ids) => loadActions(em(), ids)),
    investigationNotes: new PrimedLoader((ids) => loadNotes(em(), ids)),
  };
}
