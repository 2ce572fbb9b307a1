import type { Knex } from '@mikro-orm/postgresql';
import { Finding } from '../../entities/finding.entity';
import { Investigation } from '../../entities/investigation.entity';
import { Note } from '../../entities/note.entity';
import { RecommendedAction } from '../../entities/recommended-action.entity';
import { BadUserInputError } from '../../errors';
import type { EntityManager } from '../../infra/db';
import { detached, pgTime } from '../../infra/read-model';
import { decodeCursor, toPage, type CursorValues, type Page } from '../../schema/connection';
import { InvestigationOrderField, OrderDirection } from '../../schema/investigation.enums';
import type { InvestigationListFilter, InvestigationListOrder } from './investigation.types';
import { MAX_ACTIONS_PER_INVESTIGATION, MAX_NOTES_PER_INVESTIGATION } from './investigation.types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const INVESTIGATION_COLUMNS = [
  'id', 'title', 'description', 'trigger', 'status', 'risk_level', 'assignee_id', 'created_by_id',
  'tags', 'version', 'created_at', 'updated_at', 'closed_at',
];
const ACTION_COLUMNS = [
  'id', 'investigation_id', 'title', 'detail', 'status', 'owner_id', 'due_at', 'created_by_id', 'created_at', 'updated_at',
];
const FINDING_COLUMNS = [
  'id', 'investigation_id', 'summary', 'evidence', 'risk_level', 'source', 'observed_at',
  'subject_email', 'subject_ip', 'subject_name', 'created_by_id', 'created_at',
];

/** A timestamp as text with microseconds, so a cursor round-trips exactly what PostgreSQL stores. */
const timeText = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

interface SortKey {
  /** The column sorted on. */
  column: string;
  /** The cursor's form of the column's value. */
  cursorExpr: string;
  /** The SQL type to cast a cursor value to. */
  cast: 'timestamptz' | 'smallint' | 'text';
  valid(value: string | number): boolean;
}

const SORT_KEYS: Record<InvestigationOrderField, SortKey> = {
  [InvestigationOrderField.CREATED_AT]: {
    column: 'i.created_at',
    cursorExpr: timeText('i.created_at'),
    cast: 'timestamptz',
    valid: (v) => typeof v === 'string' && ISO_TIME.test(v) && !Number.isNaN(Date.parse(v)),
  },
  [InvestigationOrderField.UPDATED_AT]: {
    column: 'i.updated_at',
    cursorExpr: timeText('i.updated_at'),
    cast: 'timestamptz',
    valid: (v) => typeof v === 'string' && ISO_TIME.test(v) && !Number.isNaN(Date.parse(v)),
  },
  [InvestigationOrderField.RISK_LEVEL]: {
    column: 'i.risk_rank',
    cursorExpr: 'i.risk_rank',
    cast: 'smallint',
    valid: (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 3,
  },
  [InvestigationOrderField.TITLE]: {
    column: 'i.title',
    cursorExpr: 'i.title',
    cast: 'text',
    valid: (v) => typeof v === 'string',
  },
};

type Row = Record<string, unknown>;

// Pages are read-only: rows become detached entity instances, not ORM-managed ones (see read-model.ts).
function toInvestigation(row: Row): Investigation {
  return detached(Investigation, {
    id: row.id as string,
    title: row.title as string,
    description: row.description as string | null,
    trigger: row.trigger as string | null,
    status: row.status as Investigation['status'],
    riskLevel: row.risk_level as Investigation['riskLevel'],
    assigneeId: row.assignee_id as string | null,
    createdById: row.created_by_id as string,
    tags: (row.tags as string[] | null) ?? [],
    version: Number(row.version),
    createdAt: pgTime(row.created_at),
    updatedAt: pgTime(row.updated_at),
    closedAt: pgTime(row.closed_at, true),
  });
}

function toFinding(row: Row): Finding {
  return detached(Finding, {
    id: row.id as string,
    investigationId: row.investigation_id as string,
    summary: row.summary as string,
    evidence: row.evidence ?? null,
    riskLevel: row.risk_level as Finding['riskLevel'],
    source: row.source as string | null,
    observedAt: pgTime(row.observed_at, true),
    subjectEmail: row.subject_email as string | null,
    subjectIp: row.subject_ip as string | null,
    subjectName: row.subject_name as string | null,
    createdById: row.created_by_id as string | null,
    createdAt: pgTime(row.created_at),
  });
}

function toAction(row: Row): RecommendedAction {
  return detached(RecommendedAction, {
    id: row.id as string,
    investigationId: row.investigation_id as string,
    title: row.title as string,
    detail: row.detail as string | null,
    status: row.status as RecommendedAction['status'],
    ownerId: row.owner_id as string | null,
    dueAt: pgTime(row.due_at, true),
    createdById: row.created_by_id as string | null,
    createdAt: pgTime(row.created_at),
    updatedAt: pgTime(row.updated_at),
  });
}

function knexOf(em: EntityManager): Knex {
  return em.getKnex();
}

/** Applies every filter condition to a query over `investigation as i`. */
function applyFilter(q: Knex.QueryBuilder, filter: InvestigationListFilter): void {
  if (filter.status) q.whereIn('i.status', filter.status);
  if (filter.riskLevel) q.whereIn('i.risk_level', filter.riskLevel);
  if (filter.assigneeId) q.where('i.assignee_id', filter.assigneeId);
  if (filter.tag) q.whereRaw('i.tags @> array[?]::text[]', [filter.tag.trim()]);
  if (filter.createdFrom) q.where('i.created_at', '>=', filter.createdFrom);
  if (filter.createdTo) q.where('i.created_at', '<', filter.createdTo);
  if (filter.search?.trim()) {
    const search = filter.search.trim();
    q.whereRaw(
      `(i.search @@ websearch_to_tsquery('english', ?) or exists (
         select 1 from finding f where f.investigation_id = i.id and f.search @@ websearch_to_tsquery('english', ?)))`,
      [search, search],
    );
  }
}

export interface ListQuery {
  first: number;
  after: string | null;
  filter: InvestigationListFilter;
  orderBy: InvestigationListOrder | null;
}

/**
 * One page of investigations by keyset pagination on (sort key, id): a cursor names the last row
 * seen, so pages stay stable when rows are inserted before it. One statement: the page with the total count as a subquery.
 */
export async function listInvestigations(em: EntityManager, query: ListQuery): Promise<Page<Investigation>> {
  const field = query.orderBy?.field ?? InvestigationOrderField.CREATED_AT;
  const direction = query.orderBy?.direction ?? OrderDirection.DESC;
  const key = SORT_KEYS[field];
  const tag = `${field}:${direction}`;
  const knex = knexOf(em);

  let afterValues: CursorValues | null = null;
  if (query.after) {
    afterValues = decodeCursor(query.after, 3);
    const [cursorTag, value, id] = afterValues;
    if (cursorTag !== tag || value === undefined || !key.valid(value) || typeof id !== 'string' || !UUID.test(id)) {
      throw new BadUserInputError('after is not a cursor this list gave out for this order', 'after');
    }
  }
  if (query.filter.createdFrom && query.filter.createdTo && query.filter.createdFrom > query.filter.createdTo) {
    throw new BadUserInputError('createdFrom must not be after createdTo', 'filter.createdFrom');
  }

  const base = knex('investigation as i');
  applyFilter(base, query.filter);

  const countQuery = base.clone().count<{ n: string }[]>({ n: '*' });
  const pageQuery = base
    .clone()
    .select(INVESTIGATION_COLUMNS.map((c) => `i.${c}`))
    .select(knex.raw(`${key.cursorExpr} as cursor_key`))
    // The total rides along as an uncorrelated subquery (evaluated once): one statement, not two.
    .select(knex.raw('(?) as total_count', [countQuery]))
    .orderBy([
      { column: key.column, order: direction.toLowerCase() },
      { column: 'i.id', order: direction.toLowerCase() },
    ])
    .limit(query.first + 1);
  if (afterValues) {
    const op = direction === OrderDirection.DESC ? '<' : '>';
    pageQuery.whereRaw(`(${key.column}, i.id) ${op} (?::${key.cast}, ?::uuid)`, [afterValues[1]!, afterValues[2]!]);
  }

  const rows = (await pageQuery) as Row[];
  // No row: nothing matches at all, unless the cursor is past the last one; only then count apart.
  const totalCount = rows.length
    ? Number(rows[0]!.total_count)
    : afterValues
      ? Number((await countQuery)[0]?.n ?? 0)
      : 0;
  const cursorKeys = new Map<Investigation, CursorValues>();
  const nodes = rows.map((row) => {
    const entity = toInvestigation(row);
    cursorKeys.set(entity, [tag, row.cursor_key as string | number, entity.id]);
    return entity;
  });
  return toPage(nodes, query.first, (node) => cursorKeys.get(node)!, totalCount);
}

/** The cursor tag of a finding page (findings are newest first). */
const FINDING_TAG = 'FINDING';

/**
 * The first `first` findings after `after` of each investigation, in one statement whatever the
 * number of investigations: a window query numbers each investigation's findings.
 */
export async function loadFindingPages(
  em: EntityManager,
  investigationIds: readonly string[],
  first: number,
  after: string | null,
): Promise<Page<Finding>[]> {
  let cursor: { time: string; id: string } | null = null;
  if (after) {
    const [tag, time, id] = decodeCursor(after, 3);
    if (tag !== FINDING_TAG || typeof time !== 'string' || !ISO_TIME.test(time) || typeof id !== 'string' || !UUID.test(id)) {
      throw new BadUserInputError('after is not a cursor this list gave out', 'after');
    }
    cursor = { time, id };
  }
  const knex = knexOf(em);
  const cols = FINDING_COLUMNS.map((c) => `f.${c}`).join(', ');
  const rows: Row[] =
    first === 0
      ? await knex.raw<{ rows: Row[] }>(
          `select f.investigation_id, count(*)::int as total_count from finding f
           where f.investigation_id = any(?::uuid[]) group by f.investigation_id`,
          [investigationIds as string[]],
        ).then((r) => r.rows)
      : await knex
          .raw<{ rows: Row[] }>(
            `select * from (
               select t.*, row_number() over (partition by t.investigation_id order by t.created_at desc, t.id desc) as rn
               from (
                 select ${cols}, ${timeText('f.created_at')} as cursor_key,
                        count(*) over (partition by f.investigation_id)::int as total_count
                 from finding f
                 where f.investigation_id = any(?::uuid[])
               ) t
               where ?::boolean or (t.created_at, t.id) < (?::timestamptz, ?::uuid)
             ) p
             where p.rn <= ?
             order by p.investigation_id, p.rn`,
            [investigationIds as string[], cursor === null, cursor?.time ?? null, cursor?.id ?? null, first + 1],
          )
          .then((r) => r.rows);

  const byParent = new Map<string, { findings: Finding[]; total: number }>();
  const cursorKeys = new Map<Finding, string>();
  for (const row of rows) {
    const parent = row.investigation_id as string;
    let group = byParent.get(parent);
    if (!group) {
      group = { findings: [], total: Number(row.total_count) };
      byParent.set(parent, group);
    }
    if (first === 0) continue;
    const finding = toFinding(row);
    cursorKeys.set(finding, row.cursor_key as string);
    group.findings.push(finding);
  }
  return investigationIds.map((id) => {
    const group = byParent.get(id) ?? { findings: [], total: 0 };
    return toPage(group.findings, first, (f) => [FINDING_TAG, cursorKeys.get(f)!, f.id], group.total);
  });
}

/** The recommended actions of each investigation (oldest first), in one statement. */
export async function loadActions(em: EntityManager, investigationIds: readonly string[]): Promise<RecommendedAction[][]> {
  const rows = await knexOf(em)
    .raw<{ rows: Row[] }>(
      `select ${ACTION_COLUMNS.join(', ')} from recommended_action
        where investigation_id = any(?::uuid[]) order by investigation_id, created_at, id`,
      [investigationIds as string[]],
    )
    .then((r) => r.rows);
  return group(investigationIds, rows.map(toAction), MAX_ACTIONS_PER_INVESTIGATION);
}

/** The notes of each investigation (oldest first), in one statement. */
export async function loadNotes(em: EntityManager, investigationIds: readonly string[]): Promise<Note[][]> {
  const notes = await em.find(
    Note,
    { investigationId: { $in: [...investigationIds] } },
    { orderBy: { investigationId: 'asc', createdAt: 'asc', id: 'asc' } },
  );
  return group(investigationIds, notes, MAX_NOTES_PER_INVESTIGATION);
}

function group<T extends { investigationId: string }>(ids: readonly string[], items: T[], max: number): T[][] {
  const byParent = new Map<string, T[]>(ids.map((id) => [id, []]));
  for (const item of items) {
    const list = byParent.get(item.investigationId);
    if (list && list.length < max) list.push(item);
  }
  return ids.map((id) => byParent.get(id)!);
}
