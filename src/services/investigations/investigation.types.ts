import type { AuditService } from '../audit/audit.service';
import type {
  InvestigationOrderField,
  InvestigationStatus,
  OrderDirection,
  RiskLevel,
} from '../../schema/investigation.enums';

/** Evidence JSON may hold at most this many bytes once serialised. */
export const MAX_EVIDENCE_BYTES = 64 * 1024;
/** Recommended actions per investigation; `actions` is a bounded list. */
export const MAX_ACTIONS_PER_INVESTIGATION = 100;
/** Notes per investigation; `notes` is a bounded list. */
export const MAX_NOTES_PER_INVESTIGATION = 500;
/** Findings per investigation (they are paged, but an investigation is not a data lake). */
export const MAX_FINDINGS_PER_INVESTIGATION = 10_000;
/** Note bodies are 1 to this many characters. */
export const MAX_NOTE_LENGTH = 10_000;

export interface CreateInvestigationData {
  title: string;
  description?: string | null;
  trigger?: string | null;
  riskLevel?: RiskLevel | null;
  assigneeId?: string | null;
  tags?: string[] | null;
}

/** `undefined` leaves a field alone; `null` clears the nullable ones. */
export interface UpdateInvestigationData {
  title?: string | null;
  description?: string | null;
  trigger?: string | null;
  status?: InvestigationStatus | null;
  riskLevel?: RiskLevel | null;
  assigneeId?: string | null;
  tags?: string[] | null;
}

export interface FindingData {
  summary: string;
  evidence?: unknown;
  riskLevel?: RiskLevel | null;
  source?: string | null;
  observedAt?: Date | null;
  subjectEmail?: string | null;
  subjectIp?: string | null;
  subjectName?: string | null;
}

export interface ActionData {
  title: string;
  detail?: string | null;
  ownerId?: string | null;
  dueAt?: Date | null;
}

export interface InvestigationListFilter {
  status?: InvestigationStatus[] | null;
  riskLevel?: RiskLevel[] | null;
  assigneeId?: string | null;
  tag?: string | null;
  createdFrom?: Date | null;
  createdTo?: Date | null;
  search?: string | null;
}

export interface InvestigationListOrder {
  field: InvestigationOrderField;
  direction: OrderDirection;
}

/** The part of the audit service investigations use. */
export type AuditRecorder = Pick<AuditService, 'record' | 'recordSecurityEvent'>;

/** The event published after every committed change to an investigation or its children. */
export const INVESTIGATION_UPDATED = 'INVESTIGATION_UPDATED';

/** Its payload: plain JSON, so it crosses Redis unchanged. */
export interface InvestigationUpdatedEvent {
  id: string;
  /** What happened: `UPDATED`, `FINDING_ADDED`, `DELETED` … */
  change: string;
}
