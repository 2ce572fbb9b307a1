import { Finding } from '../../entities/finding.entity';
import { Investigation } from '../../entities/investigation.entity';
import { Note } from '../../entities/note.entity';
import { RecommendedAction } from '../../entities/recommended-action.entity';
import { BadUserInputError } from '../../errors';
import type { EntityManager } from '../../infra/db';
import type { User } from '../../entities/user.entity';
import { detached, detachedShells, pgTime, positionalRow, readPositional, readRows, readStatement, SqlConditions, type RowField } from '../../infra/read-model';
import { userFromRow, userRow } from '../users/user.queries';
import { cursorArgument, decodeCursor, keysetSql, pageLimit, toPage, type CursorValues, type Page, type PageWindow } from '../../schema/connection';
import { InvestigationOrderField, OrderDirection } from '../../schema/investigation.enums';
import type { InvestigationListFilter, InvestigationListOrder } from './investigation.types';
import { MAX_ACTIONS_PER_INVESTIGATION, MAX_NOTES_PER_INVESTIGATION } from './investigation.types';
import { isUuid } from '../../infra/ids';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const INVESTIGATION_COLUMNS = [
  'id', 'title', 'description', 'trigger', 'status', 'risk_level', 'assignee_id', 'created_by_id',
  'tags', 'version', 'created_at', 'updated_at', 'closed_at',
];
// Tags travel as JSON: the driver's parser for PostgreSQL array text reads character by character.
const INVESTIGATION_SELECT = INVESTIGATION_COLUMNS.map((c) => (c === 'tags' ? 'to_json(i.tags) as tags' : `i.${c}`)).join(', ');

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

/**
 * Every filter condition, in a fixed order and with lists as arrays, so a filter's statement text
 * depends only on which conditions are set (one prepared statement per combination, not per value).
 */
function filterConditions(filter: InvestigationListFilter): SqlConditions {
  const c = new SqlConditions();
  if (filter.status) c.add(`i.status = any(${c.param(filter.status)}::text[])`);
  if (filter.riskLevel) c.add(`i.risk_level = any(${c.param(filter.riskLevel)}::text[])`);
  if (filter.assigneeId) c.add(`i.assignee_id = ${c.param(filter.assigneeId)}::uuid`);
  if (filter.tag) c.add(`i.tags @> array[${c.param(filter.tag.trim())}::text]`);
  if (filter.createdFrom) c.add(`i.created_at >= ${c.param(filter.createdFrom)}::timestamptz`);
  if (filter.createdTo) c.add(`i.created_at < ${c.param(filter.createdTo)}::timestamptz`);
  if (filter.search?.trim()) {
    const query = `websearch_to_tsquery('english', ${c.param(filter.search.trim())})`;
    c.add(`(i.search @@ ${query} or exists (select 1 from finding f where f.investigation_id = i.id and f.search @@ ${query}))`);
  }
  return c;
}

/** The cursor tag of a finding page (findings are newest first). */
const FINDING_TAG = 'FINDING';

/** Finding properties a page can carry: the SQL of each over the finding row `f`, and its kind. */
const FINDING_FIELDS = {
  id: { sql: 'f.id', kind: 'text' },
  summary: { sql: 'f.summary', kind: 'text' },
  evidence: { sql: 'f.evidence', kind: 'json' },
  riskLevel: { sql: 'f.risk_level', kind: 'text' },
  source: { sql: 'f.source', kind: 'text' },
  observedAt: { sql: 'f.observed_at', kind: 'time' },
  subjectEmail: { sql: 'f.subject_email', kind: 'text' },
  subjectIp: { sql: 'f.subject_ip', kind: 'text' },
  subjectName: { sql: 'f.subject_name', kind: 'text' },
  createdById: { sql: 'f.created_by_id', kind: 'text' },
  createdAt: { sql: 'f.created_at', kind: 'time' },
} satisfies Record<string, Omit<RowField, 'name'>>;
type FindingField = keyof typeof FINDING_FIELDS;
const ALL_FINDING_FIELDS = Object.keys(FINDING_FIELDS) as FindingField[];
const isFindingField = (name: string): name is FindingField => Object.hasOwn(FINDING_FIELDS, name);

/** What a page of findings has to carry: the selected fields, and the count and cursors only when asked for. */
export interface FindingPageShape {
  fields: readonly FindingField[];
  /** The positional row of a finding in this shape (its cursor key follows when cursors are asked for). */
  row: readonly RowField[];
  /** Makes the (detached) findings this shape fills. */
  shell: () => Finding;
  totalCount: boolean;
  cursors: boolean;
  /** Equal for equal shapes (pages of one shape share a statement). */
  key: string;
}

/**
 * The shape of a finding page from what a query selects on the connection, its edges and its
 * nodes. A node field this list does not know (a field added later, with needs of its own) loads
 * every column, so a new field is never served from a row that lacks its data.
 */
export function findingPageShape(selected: { connection: ReadonlySet<string>; edge: ReadonlySet<string>; node: ReadonlySet<string> }): FindingPageShape {
  const wanted = new Set<FindingField>(['id']);
  let all = false;
  for (const name of selected.node) {
    if (isFindingField(name)) wanted.add(name);
    else if (!name.startsWith('__')) all = true;
  }
  const fields = all ? ALL_FINDING_FIELDS : ALL_FINDING_FIELDS.filter((f) => wanted.has(f));
  const totalCount = selected.connection.has('totalCount');
  const cursors = selected.edge.has('cursor') || selected.connection.has('pageInfo');
  const row: RowField[] = fields.map((name) => ({ name, ...FINDING_FIELDS[name] }));
  const shell = detachedShells(Finding, ['investigationId', ...fields]);
  return { fields, row, shell, totalCount, cursors, key: `${fields.join(',')}|${totalCount}|${cursors}` };
}

/** Every field, the count and the cursors: for callers that do not know what will be read. */
export const FULL_FINDING_PAGE: FindingPageShape = findingPageShape({
  connection: new Set(['totalCount', 'pageInfo']),
  edge: new Set(['cursor']),
  node: new Set(ALL_FINDING_FIELDS),
});

/** A page of findings as loaded: the window the field's arguments ask for, in the given shape. */
export interface FindingPageRequest {
  window: PageWindow;
  shape: FindingPageShape;
}

/** The cursor of a finding window, checked; null without one. */
export function findingCursor(window: PageWindow): { time: string; id: string } | null {
  if (!window.cursor) return null;
  const argument = cursorArgument(window);
  const [tag, time, id] = decodeCursor(window.cursor, 3, argument);
  if (tag !== FINDING_TAG || typeof time !== 'string' || !ISO_TIME.test(time) || !isUuid(id)) {
    throw new BadUserInputError(`${argument} is not a cursor this list gave out`, argument);
  }
  return { time, id };
}

/**
 * SQL columns for a finding page of the investigation `parent` (an SQL expression):
 * `<prefix>items`, the first findings as one JSON array (newest first; a short backward scan of
 * `finding_investigation_created_idx`), and `<prefix>total` when the shape asks for the count.
 * `params` adds the limit and cursor values and returns their placeholders.
 */
function findingColumns(
  request: FindingPageRequest,
  parent: string,
  prefix: string,
  param: (value: unknown) => string,
): string {
  const total = `(select count(*)::int from finding f where f.investigation_id = ${parent}) as ${prefix}total`;
  const { window } = request;
  if (window.size === 0) return `null::json as ${prefix}items, ${total}`;
  const cursor = findingCursor(window);
  const { order, op } = keysetSql('desc', window);
  const after = cursor ? `and (f.created_at, f.id) ${op} (${param(cursor.time)}::timestamptz, ${param(cursor.id)}::uuid)` : '';
  const row = request.shape.cursors
    ? [...request.shape.row, { name: 'cursor', sql: timeText('f.created_at'), kind: 'text' } as const]
    : request.shape.row;
  const items = `to_json(array(select ${positionalRow(row)} from finding f
      where f.investigation_id = ${parent} ${after}
      order by f.created_at ${order}, f.id ${order} limit ${pageLimit(window.size)})) as ${prefix}items`;
  return request.shape.totalCount ? `${items}, ${total}` : items;
}

/** The positional rows of a finding page, as {@link findingColumns} ships them. */
type FindingRows = (string | null)[][];

const notLoaded = (what: string) => () => {
  throw new Error(`${what} was not loaded for this page (its selection did not ask for it)`);
};

/** The page of one investigation from the columns {@link findingColumns} made. */
function findingPage(request: FindingPageRequest, investigationId: string, items: FindingRows | null, total: number | undefined): Page<Finding> {
  const { window, shape } = request;
  const cursorKeys = shape.cursors ? new Map<Finding, string>() : null;
  const findings = (items ?? []).map((values) => {
    const finding = shape.shell();
    finding.investigationId = investigationId;
    readPositional(shape.row, values, finding);
    // The cursor key follows the fields (see findingColumns); it is not a property of the finding.
    if (cursorKeys) cursorKeys.set(finding, values[shape.row.length]!);
    return finding;
  });
  const counted = window.size === 0 || shape.totalCount;
  const page = toPage(findings, window, cursorKeys ? (f) => [FINDING_TAG, cursorKeys.get(f)!, f.id] : notLoaded('A finding cursor'), counted ? (total ?? 0) : 0);
  if (!counted) Object.defineProperty(page, 'totalCount', { get: notLoaded('totalCount'), enumerable: true });
  return page;
}

/**
 * The same window of findings (forward or backward) of each investigation, in one statement
 * whatever the number of investigations, carrying what the request's shape asks for.
 */
export async function loadFindingPages(em: EntityManager, investigationIds: readonly string[], request: FindingPageRequest): Promise<Page<Finding>[]> {
  const values: unknown[] = [investigationIds];
  const param = (value: unknown) => `$${values.push(value)}`;
  const text = `select p.id as parent, ${findingColumns(request, 'p.id', '', param)} from unnest($1::uuid[]) as p(id)`;
  const rows = await readRows<{ parent: string; items: FindingRows | null; total?: number }>(em, readStatement(text), values);
  const byParent = new Map(rows.map((row) => [row.parent, row]));
  return investigationIds.map((id) => findingPage(request, id, byParent.get(id)?.items ?? null, byParent.get(id)?.total));
}

/** A recommended action as a positional row over the `recommended_action` row `a`. */
const ACTION_FIELDS: readonly RowField[] = [
  { name: 'id', sql: 'a.id', kind: 'text' },
  { name: 'investigationId', sql: 'a.investigation_id', kind: 'text' },
  { name: 'title', sql: 'a.title', kind: 'text' },
  { name: 'detail', sql: 'a.detail', kind: 'text' },
  { name: 'status', sql: 'a.status', kind: 'text' },
  { name: 'ownerId', sql: 'a.owner_id', kind: 'text' },
  { name: 'dueAt', sql: 'a.due_at', kind: 'time' },
  { name: 'createdById', sql: 'a.created_by_id', kind: 'text' },
  { name: 'createdAt', sql: 'a.created_at', kind: 'time' },
  { name: 'updatedAt', sql: 'a.updated_at', kind: 'time' },
];

/** SQL: the actions of the investigation `parent` (oldest first, at most the cap) as positional rows. */
const actionItems = (parent: string) =>
  `to_json(array(select ${positionalRow(ACTION_FIELDS)} from recommended_action a
      where a.investigation_id = ${parent} order by a.created_at, a.id limit ${MAX_ACTIONS_PER_INVESTIGATION}))`;

type ActionRows = (string | null)[][];

const actionShell = detachedShells(RecommendedAction, ACTION_FIELDS.map((f) => f.name));
const actionFromRow = (values: readonly (string | null)[]): RecommendedAction => readPositional(ACTION_FIELDS, values, actionShell());

const actionsStatement = readStatement(`select p.id as parent, ${actionItems('p.id')} as items from unnest($1::uuid[]) as p(id)`);

/** The recommended actions of each investigation (oldest first), in one statement. */
export async function loadActions(em: EntityManager, investigationIds: readonly string[]): Promise<RecommendedAction[][]> {
  const rows = await readRows<{ parent: string; items: ActionRows | null }>(em, actionsStatement, [investigationIds]);
  const byParent = new Map(rows.map((row) => [row.parent, row.items ?? []]));
  return investigationIds.map((id) => (byParent.get(id) ?? []).map(actionFromRow));
}

export interface ListQuery {
  window: PageWindow;
  filter: InvestigationListFilter;
  orderBy: InvestigationListOrder | null;
}

/**
 * What a page of investigations is read with, in the same statement: each one's page of findings,
 * its actions, its assignee and creator. The caller knows what the response will read (the
 * resolver looks at the selection); each is loaded only when asked for.
 */
export interface ListIncludes {
  findings?: FindingPageRequest;
  actions?: boolean;
  users?: boolean;
}

/** A page of investigations with what was included, by investigation id (users by user id). */
export interface ListResult {
  page: Page<Investigation>;
  findings: Map<string, Page<Finding>>;
  actions: Map<string, RecommendedAction[]>;
  users: Map<string, User>;
}

interface ListRow extends Row {
  findings_items?: FindingRows | null;
  findings_total?: number;
  actions_items?: ActionRows | null;
  assignee?: (string | null)[] | null;
  created_by?: (string | null)[] | null;
}

/**
 * One page of investigations by keyset pagination on (sort key, id): a cursor names the last row
 * seen, so pages stay stable when rows are inserted before it. One statement: the page, the total
 * count as an uncorrelated subquery, and whatever `include` asks for as JSON built by PostgreSQL
 * for the page's rows only — a nested page of 20 investigations with their findings, actions and
 * users is one round trip to the database, not five.
 */
export async function listInvestigations(em: EntityManager, query: ListQuery, include: ListIncludes = {}): Promise<ListResult> {
  const field = query.orderBy?.field ?? InvestigationOrderField.CREATED_AT;
  const direction = query.orderBy?.direction ?? OrderDirection.DESC;
  const key = SORT_KEYS[field];
  const tag = `${field}:${direction}`;
  const { window } = query;
  let afterValues: CursorValues | null = null;
  if (window.cursor) {
    const argument = cursorArgument(window);
    afterValues = decodeCursor(window.cursor, 3, argument);
    const [cursorTag, value, id] = afterValues;
    if (cursorTag !== tag || value === undefined || !key.valid(value) || !isUuid(id)) {
      throw new BadUserInputError(`${argument} is not a cursor this list gave out for this order`, argument);
    }
  }
  if (query.filter.createdFrom && query.filter.createdTo && query.filter.createdFrom > query.filter.createdTo) {
    throw new BadUserInputError('createdFrom must not be after createdTo', 'filter.createdFrom');
  }

  const conditions = filterConditions(query.filter);
  const countText = `select count(*)::int as n from investigation i ${conditions.where}`;
  const countValues = [...conditions.values];
  const { order, op } = keysetSql(direction === OrderDirection.DESC ? 'desc' : 'asc', window);
  if (afterValues) {
    conditions.add(`(${key.column}, i.id) ${op} (${conditions.param(afterValues[1])}::${key.cast}, ${conditions.param(afterValues[2])}::uuid)`);
  }
  const param = (value: unknown) => conditions.param(value);
  // The page first (the total rides along as an uncorrelated subquery, evaluated once, sharing the
  // filter's parameters), then the included JSON for those rows only.
  const extra = [
    include.findings ? findingColumns(include.findings, 'p.id', 'findings_', param) : null,
    include.actions ? `${actionItems('p.id')} as actions_items` : null,
    include.users ? `(select to_json(${userRow()}) from "user" u where u.id = p.assignee_id) as assignee` : null,
    include.users ? `(select to_json(${userRow()}) from "user" u where u.id = p.created_by_id) as created_by` : null,
  ].filter(Boolean);
  const pageText = `select p.*${extra.map((e) => `, ${e}`).join('')}
    from (select ${INVESTIGATION_SELECT}, ${key.column} as sort_key, ${key.cursorExpr} as cursor_key, (${countText}) as total_count
            from investigation i ${conditions.where}
           order by ${key.column} ${order}, i.id ${order}
           limit ${pageLimit(window.size)}) p
   order by p.sort_key ${order}, p.id ${order}`;
  const rows = await readRows<ListRow>(em, readStatement(pageText), conditions.values);
  // No row: nothing matches at all, unless the cursor is past the last one; only then count apart.
  const totalCount = rows.length
    ? Number(rows[0]!.total_count)
    : afterValues
      ? Number((await readRows(em, readStatement(countText), countValues))[0]?.n ?? 0)
      : 0;

  const result: ListResult = { page: undefined!, findings: new Map(), actions: new Map(), users: new Map() };
  const cursorKeys = new Map<Investigation, CursorValues>();
  const nodes = rows.map((row) => {
    const entity = toInvestigation(row);
    cursorKeys.set(entity, [tag, row.cursor_key as string | number, entity.id]);
    if (include.findings) result.findings.set(entity.id, findingPage(include.findings, entity.id, row.findings_items ?? null, row.findings_total));
    if (include.actions) result.actions.set(entity.id, (row.actions_items ?? []).map(actionFromRow));
    for (const [id, user] of [[entity.assigneeId, row.assignee], [entity.createdById, row.created_by]] as const) {
      if (id && user && !result.users.has(id)) result.users.set(id, userFromRow(user));
    }
    return entity;
  });
  result.page = toPage(nodes, window, (node) => cursorKeys.get(node)!, totalCount);
  return result;
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
