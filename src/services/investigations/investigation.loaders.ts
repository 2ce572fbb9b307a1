import DataLoader from 'dataloader';
import type { Finding } from '../../entities/finding.entity';
import type { Note } from '../../entities/note.entity';
import type { RecommendedAction } from '../../entities/recommended-action.entity';
import type { EntityManager } from '../../infra/db';
import type { Page } from '../../schema/connection';
import { loadActions, loadFindingPages, loadNotes } from './investigation.queries';

/** Per-request loaders of an investigation's children, keyed by investigation id. */
export interface InvestigationLoaders {
  /** Findings pages for one `(first, after)`: all parents asking the same page share one statement. */
  investigationFindings(first: number, after: string | null): DataLoader<string, Page<Finding>>;
  investigationActions: DataLoader<string, RecommendedAction[]>;
  investigationNotes: DataLoader<string, Note[]>;
}

export function createInvestigationLoaders(em: EntityManager): InvestigationLoaders {
  const findingLoaders = new Map<string, DataLoader<string, Page<Finding>>>();
  return {
    investigationFindings(first, after) {
      const key = JSON.stringify([first, after]);
      let loader = findingLoaders.get(key);
      if (!loader) {
        loader = new DataLoader((ids) => loadFindingPages(em, ids, first, after));
        findingLoaders.set(key, loader);
      }
      return loader;
    },
    investigationActions: new DataLoader((ids) => loadActions(em, ids)),
    investigationNotes: new DataLoader((ids) => loadNotes(em, ids)),
  };
}
