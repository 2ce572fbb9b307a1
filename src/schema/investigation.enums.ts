import { registerEnumType } from 'type-graphql';

/** Where an investigation stands; {@link INVESTIGATION_TRANSITIONS} says where it may go next. */
export enum InvestigationStatus {
  OPEN = 'OPEN',
  IN_PROGRESS = 'IN_PROGRESS',
  ESCALATED = 'ESCALATED',
  CLOSED = 'CLOSED',
}

/**
 * The investigation workflow. Work moves forward OPEN → IN_PROGRESS → ESCALATED → CLOSED; an
 * analyst may also hand work back (IN_PROGRESS → OPEN), de-escalate (ESCALATED → IN_PROGRESS) or
 * close at any point. A CLOSED investigation is reopened only to IN_PROGRESS, and while closed it
 * takes no other edits, findings or actions (notes stay possible). Keeping a status is always allowed.
 */
export const INVESTIGATION_TRANSITIONS: Readonly<Record<InvestigationStatus, readonly InvestigationStatus[]>> = {
  [InvestigationStatus.OPEN]: [InvestigationStatus.IN_PROGRESS, InvestigationStatus.CLOSED],
  [InvestigationStatus.IN_PROGRESS]: [InvestigationStatus.OPEN, InvestigationStatus.ESCALATED, InvestigationStatus.CLOSED],
  [InvestigationStatus.ESCALATED]: [InvestigationStatus.IN_PROGRESS, InvestigationStatus.CLOSED],
  [InvestigationStatus.CLOSED]: [InvestigationStatus.IN_PROGRESS],
};

/** How serious something is, lowest first. */
export enum RiskLevel {
  LOW = 'LOW',
  MEDIUM = 'MEDIUM',
  HIGH = 'HIGH',
  CRITICAL = 'CRITICAL',
}

/** Where a recommended action stands; {@link ACTION_TRANSITIONS} says where it may go next. */
export enum ActionStatus {
  PROPOSED = 'PROPOSED',
  APPROVED = 'APPROVED',
  IN_PROGRESS = 'IN_PROGRESS',
  DONE = 'DONE',
  REJECTED = 'REJECTED',
}

/** PROPOSED → APPROVED → IN_PROGRESS → DONE, or REJECTED before work starts; DONE and REJECTED are final. */
export const ACTION_TRANSITIONS: Readonly<Record<ActionStatus, readonly ActionStatus[]>> = {
  [ActionStatus.PROPOSED]: [ActionStatus.APPROVED, ActionStatus.REJECTED],
  [ActionStatus.APPROVED]: [ActionStatus.IN_PROGRESS, ActionStatus.REJECTED],
  [ActionStatus.IN_PROGRESS]: [ActionStatus.DONE],
  [ActionStatus.DONE]: [],
  [ActionStatus.REJECTED]: [],
};

export enum ExportFormat {
  JSON = 'JSON',
  CSV = 'CSV',
}

/** What `investigations(orderBy:)` sorts on; ties are always broken by id. */
export enum InvestigationOrderField {
  CREATED_AT = 'CREATED_AT',
  UPDATED_AT = 'UPDATED_AT',
  RISK_LEVEL = 'RISK_LEVEL',
  TITLE = 'TITLE',
}

export enum OrderDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}

registerEnumType(InvestigationStatus, {
  name: 'InvestigationStatus',
  description: 'OPEN → IN_PROGRESS → ESCALATED → CLOSED; back to OPEN from IN_PROGRESS, de-escalation to IN_PROGRESS, close from any status, reopen CLOSED → IN_PROGRESS',
  valuesConfig: {
    OPEN: { description: 'New, nobody works on it yet' },
    IN_PROGRESS: { description: 'Being worked on' },
    ESCALATED: { description: 'Handed up for a decision' },
    CLOSED: { description: 'Done; takes no edits, findings or actions until reopened' },
  },
});
registerEnumType(RiskLevel, {
  name: 'RiskLevel',
  description: 'How serious something is, lowest first: LOW < MEDIUM < HIGH < CRITICAL',
  valuesConfig: {
    LOW: { description: 'Minor' },
    MEDIUM: { description: 'Needs attention (the default)' },
    HIGH: { description: 'Serious' },
    CRITICAL: { description: 'Needs attention now' },
  },
});
registerEnumType(ActionStatus, {
  name: 'ActionStatus',
  description: 'PROPOSED → APPROVED → IN_PROGRESS → DONE; PROPOSED or APPROVED → REJECTED',
  valuesConfig: {
    PROPOSED: { description: 'Recommended, not yet approved' },
    APPROVED: { description: 'Approved, not started' },
    IN_PROGRESS: { description: 'Being carried out' },
    DONE: { description: 'Carried out (final)' },
    REJECTED: { description: 'Not to be carried out (final)' },
  },
});
registerEnumType(ExportFormat, {
  name: 'ExportFormat',
  description: 'The file format of an export',
  valuesConfig: {
    JSON: { description: 'One JSON document' },
    CSV: { description: 'Comma-separated values with a header row' },
  },
});
registerEnumType(InvestigationOrderField, {
  name: 'InvestigationOrderField',
  description: 'What `investigations(orderBy:)` sorts on; ties are broken by id',
  valuesConfig: {
    CREATED_AT: { description: 'When it was opened' },
    UPDATED_AT: { description: 'When it last changed' },
    RISK_LEVEL: { description: 'Risk level, LOW < MEDIUM < HIGH < CRITICAL' },
    TITLE: { description: 'Title, by character' },
  },
});
registerEnumType(OrderDirection, {
  name: 'OrderDirection',
  description: 'Which way a list is sorted',
  valuesConfig: {
    ASC: { description: 'Smallest, oldest or first in the alphabet first' },
    DESC: { description: 'Largest, newest or last in the alphabet first' },
  },
});
