import type { Finding } from '../../entities/finding.entity';
import type { Investigation } from '../../entities/investigation.entity';
import type { Note } from '../../entities/note.entity';
import type { RecommendedAction } from '../../entities/recommended-action.entity';
import { ExportFormat } from '../../schema/investigation.enums';
import { Sensitivity, sensitivityOfName } from '../../schema/sensitive-marks';

/**
 * The finding's properties that hold personal data, from their `@sensitive(kind: PII)` marks in
 * the schema: exported only to callers with ACCESS_PII. Properties marked SECRET are never exported.
 */
const FINDING_SUBJECT_FIELDS = ['subjectEmail', 'subjectIp', 'subjectName'] as const satisfies readonly (keyof Finding)[];

/** Which of the finding's subject properties an export may carry. */
function exportableSubjectFields(includePii: boolean): (typeof FINDING_SUBJECT_FIELDS)[number][] {
  return FINDING_SUBJECT_FIELDS.filter((field) => {
    const kind = sensitivityOfName(field);
    return kind === null || (kind === Sensitivity.PII && includePii);
  });
}

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** An export, ready to hand to a client as a download. */
export interface InvestigationExportFile {
  format: ExportFormat;
  filename: string;
  contentType: string;
  content: string;
  includesPii: boolean;
}

export interface ExportSource {
  investigation: Investigation;
  findings: Finding[];
  actions: RecommendedAction[];
  notes: Note[];
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

function investigationRecord(i: Investigation) {
  return {
    id: i.id,
    title: i.title,
    description: i.description ?? null,
    trigger: i.trigger ?? null,
    status: i.status,
    riskLevel: i.riskLevel,
    assigneeId: i.assigneeId ?? null,
    createdById: i.createdById,
    tags: i.tags,
    version: i.version,
    createdAt: iso(i.createdAt),
    updatedAt: iso(i.updatedAt),
    closedAt: iso(i.closedAt),
  };
}

function findingRecord(f: Finding, includePii: boolean) {
  return {
    id: f.id,
    summary: f.summary,
    evidence: f.evidence ?? null,
    riskLevel: f.riskLevel,
    source: f.source ?? null,
    observedAt: iso(f.observedAt),
    createdAt: iso(f.createdAt),
    ...Object.fromEntries(exportableSubjectFields(includePii).map((field) => [field, f[field] ?? null])),
  };
}

function actionRecord(a: RecommendedAction) {
  return {
    id: a.id,
    title: a.title,
    detail: a.detail ?? null,
    status: a.status,
    ownerId: a.ownerId ?? null,
    dueAt: iso(a.dueAt),
    createdAt: iso(a.createdAt),
    updatedAt: iso(a.updatedAt),
  };
}

function noteRecord(n: Note) {
  return { id: n.id, authorId: n.authorId ?? null, body: n.body, createdAt: iso(n.createdAt) };
}

/**
 * A CSV cell: quoted when needed, and with a leading apostrophe when it would start a
 * spreadsheet formula (=, +, -, @, tab, CR), so an export opened in a spreadsheet cannot run one.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * One row per record (the investigation, then its findings, actions and notes), with a
 * `record_type` column; the subject_* columns exist only in exports that include personal data.
 */
function toCsv(source: ExportSource, includePii: boolean): string {
  const subjectFields = exportableSubjectFields(includePii);
  const header = [
    'record_type', 'id', 'title_or_summary', 'status', 'risk_level', 'detail', 'source', 'tags',
    'owner_or_author_id', 'observed_or_due_at', 'created_at', 'updated_at', 'evidence',
    ...subjectFields.map(snakeCase),
  ];
  const i = source.investigation;
  const pii = (f?: Finding) => subjectFields.map((field) => f?.[field] ?? null);
  const rows: unknown[][] = [
    ['investigation', i.id, i.title, i.status, i.riskLevel, i.description, i.trigger, i.tags.join(';'), i.assigneeId,
      null, iso(i.createdAt), iso(i.updatedAt), null, ...pii()],
    ...source.findings.map((f) => [
      'finding', f.id, f.summary, null, f.riskLevel, null, f.source, null, null, iso(f.observedAt), iso(f.createdAt), null,
      f.evidence ?? null, ...pii(f),
    ]),
    ...source.actions.map((a) => [
      'action', a.id, a.title, a.status, null, a.detail, null, null, a.ownerId, iso(a.dueAt), iso(a.createdAt), iso(a.updatedAt),
      null, ...pii(),
    ]),
    ...source.notes.map((n) => [
      'note', n.id, null, null, null, n.body, null, null, n.authorId, null, iso(n.createdAt), null, null, ...pii(),
    ]),
  ];
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** Renders an investigation as JSON or CSV. */
export function buildExport(source: ExportSource, format: ExportFormat, includePii: boolean): InvestigationExportFile {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const base = `investigation-${source.investigation.id}-${stamp}`;
  if (format === ExportFormat.CSV) {
    return { format, filename: `${base}.csv`, contentType: 'text/csv; charset=utf-8', content: toCsv(source, includePii), includesPii: includePii };
  }
  const document = {
    exportedAt: new Date().toISOString(),
    includesPii: includePii,
    investigation: investigationRecord(source.investigation),
    findings: source.findings.map((f) => findingRecord(f, includePii)),
    actions: source.actions.map(actionRecord),
    notes: source.notes.map(noteRecord),
  };
  return { format, filename: `${base}.json`, contentType: 'application/json', content: JSON.stringify(document, null, 2), includesPii: includePii };
}
