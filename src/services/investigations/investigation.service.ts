import { LockMode } from '@mikro-orm/core';
import type { RequestMeta } from '../../context';
import { Finding } from '../../entities/finding.entity';
import { Investigation } from '../../entities/investigation.entity';
import { Note } from '../../entities/note.entity';
import { RecommendedAction } from '../../entities/recommended-action.entity';
import { User } from '../../entities/user.entity';
import { BadUserInputError, ConflictError, NotFoundError, UnauthenticatedError } from '../../errors';
import type { EntityManager } from '../../infra/db';
import type { Logger } from '../../infra/logger';
import type { VigilPubSub } from '../../infra/pubsub';
import { pageWindow } from '../../schema/connection';
import {
  ACTION_TRANSITIONS,
  ActionStatus,
  INVESTIGATION_TRANSITIONS,
  InvestigationStatus,
  RiskLevel,
  type ExportFormat,
} from '../../schema/investigation.enums';
import { buildExport, type InvestigationExportFile } from './investigation.export';
import { listInvestigations, type ListIncludes, type ListResult } from './investigation.queries';
import {
  INVESTIGATION_UPDATED,
  MAX_ACTIONS_PER_INVESTIGATION,
  MAX_FINDINGS_PER_INVESTIGATION,
  MAX_NOTE_LENGTH,
  MAX_NOTES_PER_INVESTIGATION,
  type ActionData,
  type AuditRecorder,
  type CreateInvestigationData,
  type FindingData,
  type InvestigationListFilter,
  type InvestigationListOrder,
  type InvestigationUpdatedEvent,
  type UpdateInvestigationData,
} from './investigation.types';
import { isUuid } from '../../infra/ids';

export interface InvestigationServiceDeps {
  audit: AuditRecorder;
  pubsub: VigilPubSub;
  logger: Logger;
}

export interface ListInvestigationsArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  filter?: InvestigationListFilter | null;
  orderBy?: InvestigationListOrder | null;
}

type Snapshot = Record<string, unknown>;

function snapshot(i: Investigation): Snapshot {
  return {
    title: i.title,
    description: i.description ?? null,
    trigger: i.trigger ?? null,
    status: i.status,
    riskLevel: i.riskLevel,
    assigneeId: i.assigneeId ?? null,
    tags: [...i.tags],
    version: i.version,
  };
}

/** Only the keys whose values differ, as `{ before, after }`. */
function diff(before: Snapshot, after: Snapshot): { before: Snapshot; after: Snapshot } {
  const b: Snapshot = {};
  const a: Snapshot = {};
  for (const key of Object.keys(after)) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      b[key] = before[key];
      a[key] = after[key];
    }
  }
  return { before: b, after: a };
}

function normaliseTags(tags: string[]): string[] {
  return [...new Set(tags.map((t) => t.trim()).filter((t) => t.length > 0))];
}

/**
 * Investigations and their findings, recommended actions and notes. Every change runs in one
 * transaction together with its audit entry; `INVESTIGATION_UPDATED` is published after commit.
 */
export class InvestigationService {
  constructor(private readonly deps: InvestigationServiceDeps) {}

  /** An investigation, or null when the id is unknown (or not an id). */
  async get(em: EntityManager, id: string): Promise<Investigation | null> {
    if (!isUuid(id)) return null;
    return em.findOne(Investigation, { id });
  }

  /** An investigation, reloaded from the database (subscriptions show the state after a change). */
  async reload(em: EntityManager, id: string): Promise<Investigation | null> {
    if (!isUuid(id)) return null;
    return em.findOne(Investigation, { id }, { refresh: true });
  }

  /** A page of investigations: filters, sort (newest first by default), keyset cursors. */
  /** A page of investigations, with what `include` asks for read in the same statement. */
  list(em: EntityManager, args: ListInvestigationsArgs, include?: ListIncludes): Promise<ListResult> {
    return listInvestigations(
      em,
      {
        window: pageWindow(args),
        filter: args.filter ?? {},
        orderBy: args.orderBy ?? null,
      },
      include,
    );
  }

  async create(em: EntityManager, meta: RequestMeta, data: CreateInvestigationData): Promise<Investigation> {
    const creatorId = this.actorId(meta);
    const investigation = await em.transactional(async (tx) => {
      if (data.assigneeId) await this.requireAssignableUser(tx, data.assigneeId, 'assigneeId');
      const now = new Date();
      const created = tx.create(Investigation, {
        title: data.title.trim(),
        description: data.description ?? null,
        trigger: data.trigger ?? null,
        riskLevel: data.riskLevel ?? RiskLevel.MEDIUM,
        assigneeId: data.assigneeId ?? null,
        tags: normaliseTags(data.tags ?? []),
        createdById: creatorId,
        createdAt: now,
        updatedAt: now,
      });
      await tx.flush();
      await this.deps.audit.record(tx, meta, {
        action: 'INVESTIGATION_CREATE',
        resourceType: 'Investigation',
        resourceId: created.id,
        changes: { after: snapshot(created) },
      });
      return created;
    });
    this.publish(investigation.id, 'CREATED');
    return investigation;
  }

  /**
   * Applies changes if the investigation is still at `expectedVersion`. The row is locked for the
   * transaction, so of concurrent updates naming the same version exactly one wins and the others
   * get CONFLICT; a refused update changes nothing.
   */
  async update(
    em: EntityManager,
    meta: RequestMeta,
    id: string,
    expectedVersion: number,
    data: UpdateInvestigationData,
  ): Promise<Investigation> {
    if (!isUuid(id)) throw new NotFoundError('Investigation', id);
    let changed = false;
    const updated = await em.transactional(async (tx) => {
      const investigation = await tx.findOne(Investigation, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (!investigation) throw new NotFoundError('Investigation', id);
      if (investigation.version !== expectedVersion) {
        throw new ConflictError(
          `Investigation ${id} is at version ${investigation.version}, not ${expectedVersion}: reload it and apply your change again`,
          { currentVersion: investigation.version, expectedVersion },
        );
      }
      if (data.assigneeId && data.assigneeId !== investigation.assigneeId) {
        await this.requireAssignableUser(tx, data.assigneeId, 'assigneeId');
      }
      const before = snapshot(investigation);
      this.applyUpdate(investigation, data);
      const after = snapshot(investigation);
      const changes = diff(before, after);
      // An update that changes nothing keeps the version, so it cannot make another edit stale.
      if (Object.keys(changes.after).length === 0) return investigation;
      changed = true;
      investigation.version += 1;
      investigation.updatedAt = new Date();
      await tx.flush();
      await this.deps.audit.record(tx, meta, {
        action: 'INVESTIGATION_UPDATE',
        resourceType: 'Investigation',
        resourceId: id,
        changes: diff(before, snapshot(investigation)),
      });
      return investigation;
    });
    if (changed) this.publish(id, 'UPDATED');
    return updated;
  }

  private applyUpdate(investigation: Investigation, data: UpdateInvestigationData): void {
    const nextStatus = data.status ?? investigation.status;
    const reopening = investigation.status === InvestigationStatus.CLOSED && nextStatus !== InvestigationStatus.CLOSED;
    if (nextStatus !== investigation.status && !INVESTIGATION_TRANSITIONS[investigation.status].includes(nextStatus)) {
      throw new BadUserInputError(
        `An investigation cannot go from ${investigation.status} to ${nextStatus}; allowed: ${INVESTIGATION_TRANSITIONS[investigation.status].join(', ') || 'none'}`,
        'status',
        { from: investigation.status, to: nextStatus },
      );
    }
    if (investigation.status === InvestigationStatus.CLOSED && !reopening) {
      const edits = Object.entries(data).filter(([key, value]) => key !== 'status' && value !== undefined);
      if (edits.length > 0) {
        throw new BadUserInputError('A closed investigation takes no edits: reopen it (status IN_PROGRESS) first', edits[0]![0]);
      }
    }
    if (data.title !== undefined) {
      if (data.title === null) throw new BadUserInputError('title cannot be null', 'title');
      investigation.title = data.title.trim();
    }
    if (data.description !== undefined) investigation.description = data.description;
    if (data.trigger !== undefined) investigation.trigger = data.trigger;
    if (data.riskLevel !== undefined) {
      if (data.riskLevel === null) throw new BadUserInputError('riskLevel cannot be null', 'riskLevel');
      investigation.riskLevel = data.riskLevel;
    }
    if (data.assigneeId !== undefined) investigation.assigneeId = data.assigneeId;
    if (data.tags !== undefined) investigation.tags = normaliseTags(data.tags ?? []);
    if (nextStatus !== investigation.status) {
      investigation.status = nextStatus;
      investigation.closedAt = nextStatus === InvestigationStatus.CLOSED ? new Date() : null;
    }
  }

  /** Deletes an investigation with its findings, actions and notes. */
  async delete(em: EntityManager, meta: RequestMeta, id: string): Promise<boolean> {
    if (!isUuid(id)) throw new NotFoundError('Investigation', id);
    await em.transactional(async (tx) => {
      const investigation = await tx.findOne(Investigation, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (!investigation) throw new NotFoundError('Investigation', id);
      // One after another: a transaction is one connection, which runs one statement at a time.
      const findings = await tx.count(Finding, { investigationId: id });
      const actions = await tx.count(RecommendedAction, { investigationId: id });
      const notes = await tx.count(Note, { investigationId: id });
      const before = snapshot(investigation);
      tx.remove(investigation);
      await tx.flush();
      await this.deps.audit.record(tx, meta, {
        action: 'INVESTIGATION_DELETE',
        resourceType: 'Investigation',
        resourceId: id,
        changes: { before: { ...before, findings, actions, notes } },
      });
    });
    this.publish(id, 'DELETED');
    return true;
  }

  async addFinding(em: EntityManager, meta: RequestMeta, investigationId: string, data: FindingData): Promise<Finding> {
    const actorId = this.actorId(meta);
    const finding = await em.transactional(async (tx) => {
      const investigation = await this.lockOpenInvestigation(tx, investigationId, 'add findings to');
      const count = await tx.count(Finding, { investigationId });
      if (count >= MAX_FINDINGS_PER_INVESTIGATION) {
        throw new BadUserInputError(`An investigation holds at most ${MAX_FINDINGS_PER_INVESTIGATION} findings`, 'investigationId');
      }
      const now = new Date();
      const created = tx.create(Finding, {
        investigationId,
        summary: data.summary.trim(),
        evidence: data.evidence ?? null,
        riskLevel: data.riskLevel ?? RiskLevel.MEDIUM,
        source: data.source ?? null,
        observedAt: data.observedAt ?? null,
        subjectEmail: data.subjectEmail ?? null,
        subjectIp: data.subjectIp ?? null,
        subjectName: data.subjectName ?? null,
        createdById: actorId,
        createdAt: now,
      });
      investigation.updatedAt = now;
      await tx.flush();
      await this.deps.audit.record(tx, meta, {
        action: 'FINDING_ADD',
        resourceType: 'Finding',
        resourceId: created.id,
        changes: {
          after: {
            investigationId,
            summary: created.summary,
            riskLevel: created.riskLevel,
            source: created.source,
            observedAt: created.observedAt?.toISOString() ?? null,
            subjectEmail: created.subjectEmail,
            subjectIp: created.subjectIp,
            subjectName: created.subjectName,
          },
        },
      });
      return created;
    });
    this.publish(investigationId, 'FINDING_ADDED');
    return finding;
  }

  async addAction(em: EntityManager, meta: RequestMeta, investigationId: string, data: ActionData): Promise<RecommendedAction> {
    const actorId = this.actorId(meta);
    const action = await em.transactional(async (tx) => {
      const investigation = await this.lockOpenInvestigation(tx, investigationId, 'add actions to');
      if (data.ownerId) await this.requireAssignableUser(tx, data.ownerId, 'ownerId');
      const count = await tx.count(RecommendedAction, { investigationId });
      if (count >= MAX_ACTIONS_PER_INVESTIGATION) {
        throw new BadUserInputError(`An investigation holds at most ${MAX_ACTIONS_PER_INVESTIGATION} actions`, 'investigationId');
      }
      const now = new Date();
      const created = tx.create(RecommendedAction, {
        investigationId,
        title: data.title.trim(),
        detail: data.detail ?? null,
        ownerId: data.ownerId ?? null,
        dueAt: data.dueAt ?? null,
        createdById: actorId,
        createdAt: now,
        updatedAt: now,
      });
      investigation.updatedAt = now;
      await tx.flush();
      await this.deps.audit.record(tx, meta, {
        action: 'ACTION_ADD',
        resourceType: 'RecommendedAction',
        resourceId: created.id,
        changes: {
          after: { investigationId, title: created.title, status: created.status, ownerId: created.ownerId, dueAt: created.dueAt?.toISOString() ?? null },
        },
      });
      return created;
    });
    this.publish(investigationId, 'ACTION_ADDED');
    return action;
  }

  /** Moves an action along its workflow; an illegal transition is BAD_USER_INPUT naming `status`. */
  async updateActionStatus(em: EntityManager, meta: RequestMeta, id: string, status: ActionStatus): Promise<RecommendedAction> {
    if (!isUuid(id)) throw new NotFoundError('RecommendedAction', id);
    const action = await em.transactional(async (tx) => {
      const found = await tx.findOne(RecommendedAction, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (!found) throw new NotFoundError('RecommendedAction', id);
      const from = found.status;
      if (from === status) return found;
      if (!ACTION_TRANSITIONS[from].includes(status)) {
        throw new BadUserInputError(
          `An action cannot go from ${from} to ${status}; allowed: ${ACTION_TRANSITIONS[from].join(', ') || 'none (final)'}`,
          'status',
          { from, to: status },
        );
      }
      const now = new Date();
      found.status = status;
      found.updatedAt = now;
      await tx.nativeUpdate(Investigation, { id: found.investigationId }, { updatedAt: now });
      await tx.flush();
      await this.deps.audit.record(tx, meta, {
        action: 'ACTION_STATUS_UPDATE',
        resourceType: 'RecommendedAction',
        resourceId: id,
        changes: { before: { status: from }, after: { status }, investigationId: found.investigationId },
      });
      return found;
    });
    this.publish(action.investigationId, 'ACTION_UPDATED');
    return action;
  }

  /** Adds a note; notes are accepted on closed investigations too. */
  async addNote(em: EntityManager, meta: RequestMeta, investigationId: string, body: string): Promise<Note> {
    const authorId = this.actorId(meta);
    const text = body.trim();
    if (text.length < 1 || body.length > MAX_NOTE_LENGTH) {
      throw new BadUserInputError(`body must be 1–${MAX_NOTE_LENGTH.toLocaleString('en')} characters`, 'body');
    }
    if (!isUuid(investigationId)) throw new NotFoundError('Investigation', investigationId);
    const note = await em.transactional(async (tx) => {
      const investigation = await tx.findOne(Investigation, { id: investigationId }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
      if (!investigation) throw new NotFoundError('Investigation', investigationId);
      const count = await tx.count(Note, { investigationId });
      if (count >= MAX_NOTES_PER_INVESTIGATION) {
        throw new BadUserInputError(`An investigation holds at most ${MAX_NOTES_PER_INVESTIGATION} notes`, 'investigationId');
      }
      const now = new Date();
      const created = tx.create(Note, { investigationId, authorId, body: text, createdAt: now });
      investigation.updatedAt = now;
      await tx.flush();
      await this.deps.audit.record(tx, meta, {
        action: 'NOTE_ADD',
        resourceType: 'Note',
        resourceId: created.id,
        changes: { after: { investigationId, length: text.length } },
      });
      return created;
    });
    this.publish(investigationId, 'NOTE_ADDED');
    return note;
  }

  /**
   * The investigation with every finding, action and note as one file, in one consistent state.
   * The subject* fields are included only when `includePii` (the caller decides from the viewer's
   * ACCESS_PII); the export itself is audited.
   */
  async export(
    em: EntityManager,
    meta: RequestMeta,
    id: string,
    format: ExportFormat,
    includePii: boolean,
  ): Promise<InvestigationExportFile> {
    if (!isUuid(id)) throw new NotFoundError('Investigation', id);
    return em.transactional(async (tx) => {
      // FOR SHARE: every change to the investigation or its children locks its row, so the
      // export sees one consistent state (the audit trail needs READ COMMITTED, not a snapshot).
      const investigation = await tx.findOne(Investigation, { id }, { lockMode: LockMode.PESSIMISTIC_READ, refresh: true });
      if (!investigation) throw new NotFoundError('Investigation', id);
      // One after another: a transaction is one connection, which runs one statement at a time.
      const order = { orderBy: { createdAt: 'asc', id: 'asc' } } as const;
      const findings = await tx.find(Finding, { investigationId: id }, order);
      const actions = await tx.find(RecommendedAction, { investigationId: id }, order);
      const notes = await tx.find(Note, { investigationId: id }, order);
      const file = buildExport({ investigation, findings, actions, notes }, format, includePii);
      await this.deps.audit.record(tx, meta, {
        action: 'INVESTIGATION_EXPORT',
        resourceType: 'Investigation',
        resourceId: id,
        changes: { format, includesPii: includePii, findings: findings.length, actions: actions.length, notes: notes.length },
      });
      return file;
    });
  }

  /** Records that a viewer read the personal data of these findings (one entry per finding). */
  async recordPiiRead(meta: RequestMeta, findingIds: readonly string[]): Promise<void> {
    for (const findingId of findingIds) {
      await this.deps.audit.recordSecurityEvent(meta, {
        action: 'PII_READ',
        resourceType: 'Finding',
        resourceId: findingId,
        changes: { fields: ['subjectEmail', 'subjectIp', 'subjectName'] },
      });
    }
  }

  private actorId(meta: RequestMeta): string {
    // The permission map only lets signed-in viewers reach mutations; this guards direct callers.
    if (!meta.actor) throw new UnauthenticatedError();
    return meta.actor.id;
  }

  private async lockOpenInvestigation(tx: EntityManager, id: string, verb: string): Promise<Investigation> {
    if (!isUuid(id)) throw new NotFoundError('Investigation', id);
    const investigation = await tx.findOne(Investigation, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE, refresh: true });
    if (!investigation) throw new NotFoundError('Investigation', id);
    if (investigation.status === InvestigationStatus.CLOSED) {
      throw new BadUserInputError(`Cannot ${verb} a closed investigation: reopen it first`, 'investigationId');
    }
    return investigation;
  }

  private async requireAssignableUser(em: EntityManager, id: string, field: string): Promise<void> {
    const user = isUuid(id) ? await em.findOne(User, { id }) : null;
    if (!user) throw new NotFoundError('User', id);
    if (user.disabled) throw new BadUserInputError(`User ${id} is disabled and cannot be assigned`, field);
  }

  private publish(id: string, change: string): void {
    const event: InvestigationUpdatedEvent = { id, change };
    try {
      this.deps.pubsub.publish(INVESTIGATION_UPDATED, id, event);
    } catch (err) {
      // The change is committed; a lost live update must not turn it into an error for the caller.
      this.deps.logger.warn({ err, investigationId: id }, 'could not publish INVESTIGATION_UPDATED');
    }
  }
}
