import { randomUUID } from 'node:crypto';
import { Repeater, SlidingBuffer } from '@graphql-yoga/subscription';
import type { Config } from '../../config';
import type { RequestMeta } from '../../context';
import { AlertLevel } from '../../entities/alert.entity';
import { BadUserInputError, ConflictError } from '../../errors';
import type { EntityManager, MikroORM } from '../../infra/db';
import type { Logger } from '../../infra/logger';
import type { VigilPubSub } from '../../infra/pubsub';
import { cursorArgument, decodeCursor, keysetSql, pageLimit, pageWindow, toPage, type Page, type PageArgs } from '../../schema/connection';
import { isUuid } from '../../infra/ids';
import type { RaiseAlertData } from '../alerts/alert.service';
import type { AuditEntryInput } from '../audit/audit.service';
import {
  bootValues,
  effectiveValues,
  SETTINGS,
  sourceOf,
  valueAt,
  type SettingDefinition,
  type SettingSource,
  type SettingsValues,
  type SettingValue,
} from './settings.catalog';
import {
  bumpVersion,
  changesById,
  deleteHold,
  forgetInstance,
  insertChange,
  listChanges,
  liveInstances,
  lockSettings,
  readSettings,
  reportInstance,
  upsertHold,
  writeSettings,
  type SettingChangeEntry,
  type SettingsChangeRow,
  type StoredSettings,
} from './settings.store';
import { validatePatch, type SettingsPatch } from './settings.validation';
import { WriteGate, type MaintenanceNotice } from './write-gate';

/** Pub/sub topic of the notice that the stored settings changed; payload `{ version }`. */
export const SETTINGS_CHANGED = 'SETTINGS_CHANGED';

/** The cluster-wide maintenance state as every instance applies it. */
export interface MaintenanceState {
  enabled: boolean;
  /** What refused writes answer with (the operator's text). */
  message: string | null;
  since: Date | null;
  /** Why: who turned the switch on, and each holder's reason (a restore). */
  reason: string | null;
}

/** The settings this instance applies: effective values, maintenance, and which stored version they come from. */
export interface SettingsSnapshot {
  version: number;
  values: SettingsValues;
  /** The stored overrides by setting key. */
  stored: Readonly<Record<string, SettingValue>>;
  maintenance: MaintenanceState;
  updatedAt: Date;
  updatedById: string | null;
  /** Version plus live maintenance leases: changes whenever what instances must apply changes. */
  signature: string;
}

/** One setting as the API shows it. */
export interface SettingView {
  definition: SettingDefinition;
  effective: SettingValue;
  source: SettingSource;
  /** The value without a stored override: environment, else default. */
  bootValue: SettingValue;
}

/** A change of the maintenance switch through `update`. */
export interface MaintenanceChange {
  enabled?: boolean;
  message?: string | null;
}

/** A maintenance lease held by a caller such as a restore (see {@link SettingsService.enterMaintenance}). */
export interface MaintenanceHold {
  id: string;
  reason: string;
  /** The settings version at which the lease began. */
  version: number;
  /** Writes the lease again at once (after a restore replaced the table it lives in). */
  reassert(): Promise<void>;
  /** Ends the lease (audited); writes are admitted again unless something else holds maintenance. */
  release(meta: RequestMeta): Promise<void>;
}

/** The answer of {@link SettingsService.awaitWritesStopped}. */
export interface WritesStoppedResult {
  stopped: boolean;
  /** Live instances that have not confirmed yet (empty when stopped). */
  waitingFor: string[];
}

export interface SettingsServiceDeps {
  config: Config;
  orm: MikroORM;
  pubsub: VigilPubSub;
  logger: Logger;
  audit: { record(em: EntityManager, meta: RequestMeta, entry: AuditEntryInput): Promise<void> };
  /** Names this instance in `settings_instance`. */
  instanceId: string;
  /** @default config.settings.pollMs */
  pollMs?: number;
  /** How long a maintenance lease lasts without renewal. @default 30_000 */
  holdLeaseMs?: number;
  /** How often an instance confirms it is alive when nothing changes. @default 5_000 */
  heartbeatMs?: number;
}

type Listener = (next: SettingsSnapshot, previous: SettingsSnapshot) => void;

const MAX_MAINTENANCE_MESSAGE = 500;

function effectiveMaintenance(stored: StoredSettings): MaintenanceState {
  const own = stored.maintenance;
  const holds = stored.holds;
  if (!own.enabled && !holds.length) return { enabled: false, message: own.message, since: null, reason: null };
  const sinces = [...(own.enabled && own.since ? [own.since] : []), ...holds.map((h) => h.since)];
  const reasons = [...(own.enabled ? [own.reason ?? 'turned on by an administrator'] : []), ...holds.map((h) => h.reason)];
  return {
    enabled: true,
    message: (own.enabled ? own.message : null) ?? holds.find((h) => h.message)?.message ?? null,
    since: sinces.length ? new Date(Math.min(...sinces.map((d) => d.getTime()))) : null,
    reason: reasons.join('; '),
  };
}

const same = (a: SettingValue, b: SettingValue) => a === b;

/** The history line of a maintenance switch. */
function maintenanceFlag(before: boolean, after: boolean): SettingChangeEntry {
  return { key: 'maintenance.enabled', before, after, beforeSource: 'STORED', afterSource: 'STORED' };
}

/**
 * The runtime settings and the cluster-wide maintenance state.
 *
 * Stored in PostgreSQL (one versioned row; every change also in a history table and the audit
 * trail, in one transaction). Every instance keeps the effective values in memory — read
 * synchronously with {@link current} — and re-reads the row when a Redis notice arrives
 * ({@link SETTINGS_CHANGED}) and on a poll every `pollMs` (default 1 s): a lost notice (Redis down)
 * delays a change by at most one poll period, and with no Redis at all the poll alone applies it.
 *
 * Maintenance: on while the SUPER_ADMIN switch is on or any maintenance lease (a restore) is live.
 * Each instance refuses non-exempt mutations as soon as it applies that state ({@link writes}), and
 * reports in `settings_instance` which state it applies and, once its admitted writes finished,
 * that its writes stopped under it. {@link awaitWritesStopped} waits for every live instance
 * (heartbeat within three heartbeat periods) to confirm: that is how a restore knows no instance
 * admits or runs a write any more. An instance that died is left out once its heartbeat is stale.
 */
export class SettingsService {
  /** This instance's admission of writes; closed while maintenance is on. */
  readonly writes = new WriteGate();
  private readonly boot: ReadonlyMap<string, SettingValue>;
  private snapshot: SettingsSnapshot;
  private readonly listeners = new Set<Listener>();
  private refreshing: Promise<SettingsSnapshot> | null = null;
  private refreshAgain = false;
  private reporting: Promise<void> = Promise.resolve();
  private lastReportAt = 0;
  private timer?: NodeJS.Timeout;
  private unlisten: (() => void)[] = [];
  private raiseAlert?: (data: RaiseAlertData) => Promise<unknown>;
  private readonly pollMs: number;
  private readonly holdLeaseMs: number;
  private readonly heartbeatMs: number;
  private readonly holdTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deps: SettingsServiceDeps) {
    this.boot = bootValues(deps.config);
    this.pollMs = deps.pollMs ?? deps.config.settings.pollMs;
    this.holdLeaseMs = deps.holdLeaseMs ?? 30_000;
    this.heartbeatMs = deps.heartbeatMs ?? 5_000;
    this.snapshot = this.build({
      version: 0,
      stored: {},
      maintenance: { enabled: false, message: null, since: null, reason: null },
      holds: [],
      updatedAt: new Date(0),
      updatedBy: null,
    });
  }

  /** The settings this instance applies now (from memory; never waits). */
  current(): SettingsSnapshot {
    return this.snapshot;
  }

  /** The effective values this instance applies now. */
  get values(): SettingsValues {
    return this.snapshot.values;
  }

  /** This instance's name in `settings_instance`. */
  get instanceId(): string {
    return this.deps.instanceId;
  }

  /** Every setting with its effective value, source and boot value, for a snapshot. */
  describe(snapshot: SettingsSnapshot = this.snapshot): SettingView[] {
    return SETTINGS.map((definition) => ({
      definition,
      effective: valueAt(snapshot.values, definition.key),
      source: sourceOf(definition, snapshot.stored, this.deps.config),
      bootValue: this.boot.get(definition.key)!,
    }));
  }

  /**
   * Calls `listener` after this instance applied a new state (values or maintenance), with the
   * state before. Listeners run synchronously and must not throw (errors are logged). Returns the
   * unsubscribe function.
   */
  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The state this instance applies now, then each one it applies later; a slow reader gets only the latest. */
  changes(): AsyncIterable<SettingsSnapshot> {
    return new Repeater<SettingsSnapshot>(async (push, stop) => {
      const off = this.onChange((next) => void push(next));
      void push(this.snapshot);
      await stop;
      off();
    }, new SlidingBuffer(1));
  }

  /** Who raises the INFO alert of each change (the alert service is built after this one). */
  setAlertRaiser(raise: (data: RaiseAlertData) => Promise<unknown>): void {
    this.raiseAlert = raise;
  }

  /** Reads the stored settings before the server serves (the boot values apply until then). */
  async load(): Promise<void> {
    await this.refresh();
  }

  /** Starts the poll and the Redis notices (and a re-read whenever pub/sub comes back after an outage). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.pollMs);
    this.timer.unref();
    const refresh = () => void this.refresh().catch(() => undefined);
    this.unlisten = [this.deps.pubsub.listen(SETTINGS_CHANGED, refresh), this.deps.pubsub.onResume(refresh)];
  }

  /** Stops polling and listening, ends this instance's leases' renewal and removes its report. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const timer of this.holdTimers.values()) clearInterval(timer);
    this.holdTimers.clear();
    for (const unlisten of this.unlisten.splice(0)) unlisten();
    await this.refreshing?.catch(() => undefined);
    await this.reporting;
    await forgetInstance(this.deps.orm.em.fork(), this.deps.instanceId).catch((err) =>
      this.deps.logger.warn({ err }, 'could not remove this instance from settings_instance'),
    );
  }

  /**
   * Re-reads the stored settings now and applies them if they changed; resolves with the state
   * applied afterwards. Concurrent calls share one read (and one more after it when they overlap).
   * While PostgreSQL is away the last state stays applied.
   */
  refresh(): Promise<SettingsSnapshot> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.refreshAgain = false;
          await this.refreshOnce();
        } while (this.refreshAgain);
        return this.snapshot;
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    let stored: StoredSettings;
    try {
      stored = await readSettings(this.deps.orm.em.fork());
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not read the system settings; the last ones stay applied');
      return;
    }
    const next = this.build(stored);
    const changed = next.signature !== this.snapshot.signature;
    if (changed) this.apply(next);
    // Only a serving instance reports itself (the CLI reads and changes settings without serving).
    if (this.timer && (changed || Date.now() - this.lastReportAt >= this.heartbeatMs)) this.report();
  }

  private build(stored: StoredSettings): SettingsSnapshot {
    return {
      version: stored.version,
      values: effectiveValues(this.boot, stored.stored),
      stored: stored.stored,
      maintenance: effectiveMaintenance(stored),
      updatedAt: stored.updatedAt,
      updatedById: stored.updatedBy,
      signature: [stored.version, ...stored.holds.map((h) => h.id)].join('|'),
    };
  }

  private apply(next: SettingsSnapshot): void {
    const previous = this.snapshot;
    this.snapshot = next;
    const m = next.maintenance;
    const notice: MaintenanceNotice | null = m.enabled ? { message: m.message, reason: m.reason, since: m.since } : null;
    this.writes.setMaintenance(notice);
    if (m.enabled !== previous.maintenance.enabled) {
      this.deps.logger.info({ version: next.version, maintenance: m.enabled, reason: m.reason }, m.enabled ? 'maintenance on: writes are refused' : 'maintenance off');
    }
    for (const listener of this.listeners) {
      try {
        listener(next, previous);
      } catch (err) {
        this.deps.logger.error({ err }, 'a settings listener failed');
      }
    }
    if (m.enabled) {
      const signature = next.signature;
      void this.writes.drained().then(() => {
        if (this.timer && this.snapshot.signature === signature) this.report();
      });
    }
  }

  /** Writes this instance's report; reports are written one after another, the latest state each time. */
  private report(): void {
    this.lastReportAt = Date.now();
    this.reporting = this.reporting.then(async () => {
      const s = this.snapshot;
      const inFlight = this.writes.writesInFlight;
      try {
        await reportInstance(this.deps.orm.em.fork(), {
          instanceId: this.deps.instanceId,
          appliedVersion: s.version,
          appliedSignature: s.signature,
          writesStoppedSignature: s.maintenance.enabled && inFlight === 0 ? s.signature : null,
          writesInFlight: inFlight,
        });
      } catch (err) {
        this.deps.logger.warn({ err }, 'could not report this instance’s settings state');
      }
    });
  }

  /**
   * Changes settings and the maintenance switch as one new version, if `expectedVersion` is the
   * current one (else CONFLICT). Values are checked with the environment's zod schemas first
   * (BAD_USER_INPUT naming the field and range; nothing changes). The change, its history entry
   * and its audit entry (before/after) commit together; then every instance is notified, this one
   * applies it before returning, and an INFO alert is raised. A patch that changes nothing writes
   * nothing and returns the current state.
   */
  async update(meta: RequestMeta, expectedVersion: number, patch: SettingsPatch, maintenance: MaintenanceChange = {}): Promise<SettingsSnapshot> {
    const values = validatePatch(patch);
    if (maintenance.message !== undefined && maintenance.message !== null && maintenance.message.length > MAX_MAINTENANCE_MESSAGE) {
      throw new BadUserInputError(`maintenance.message may have at most ${MAX_MAINTENANCE_MESSAGE} characters`, 'input.maintenance.message');
    }
    const outcome = await this.deps.orm.em.fork().transactional(async (tx) => {
      const current = await lockSettings(tx);
      if (current.version !== expectedVersion) {
        throw new ConflictError(`The settings changed since version ${expectedVersion}: they are at version ${current.version}`, {
          currentVersion: current.version,
        });
      }
      const before = this.build(current);
      const stored = { ...current.stored };
      for (const [key, value] of values) {
        if (value === null) delete stored[key];
        else stored[key] = value;
      }
      const own = { ...current.maintenance };
      if (maintenance.message !== undefined) own.message = maintenance.message?.trim() ? maintenance.message.trim() : null;
      if (maintenance.enabled !== undefined && maintenance.enabled !== own.enabled) {
        own.enabled = maintenance.enabled;
        own.since = maintenance.enabled ? new Date() : null;
        own.reason = maintenance.enabled ? `turned on by ${meta.actor?.email ?? 'the system'}` : null;
      }
      const after = this.build({ ...current, stored, maintenance: own });
      const changes = this.diff(before, after, current.maintenance, own);
      if (!changes.length) return null;
      const written = await writeSettings(tx, { stored, maintenance: own, updatedBy: meta.actor?.id ?? null });
      return this.recordChange(tx, meta, written, changes, {
        action: 'SYSTEM_SETTINGS_UPDATE',
        changes: {
          before: Object.fromEntries(changes.map((c) => [c.key, c.before])),
          after: Object.fromEntries(changes.map((c) => [c.key, c.after])),
          version: { before: current.version, after: written.version },
        },
      });
    });
    if (!outcome) return this.snapshot;
    await this.announce(outcome);
    return this.snapshot;
  }

  private diff(before: SettingsSnapshot, after: SettingsSnapshot, ownBefore: StoredSettings['maintenance'], ownAfter: StoredSettings['maintenance']): SettingChangeEntry[] {
    const changes: SettingChangeEntry[] = [];
    const b = new Map(this.describe(before).map((v) => [v.definition.key, v]));
    for (const view of this.describe(after)) {
      const old = b.get(view.definition.key)!;
      if (!same(old.effective, view.effective) || old.source !== view.source) {
        changes.push({ key: view.definition.key, before: old.effective, after: view.effective, beforeSource: old.source, afterSource: view.source });
      }
    }
    if (ownBefore.enabled !== ownAfter.enabled) {
      changes.push({ key: 'maintenance.enabled', before: ownBefore.enabled, after: ownAfter.enabled, beforeSource: 'STORED', afterSource: 'STORED' });
    }
    if (ownBefore.message !== ownAfter.message) {
      changes.push({ key: 'maintenance.message', before: ownBefore.message, after: ownAfter.message, beforeSource: 'STORED', afterSource: 'STORED' });
    }
    return changes;
  }

  /**
   * Inside the change's transaction, once the new version is written: its history entry and its
   * audit entry (`historyReason` is the history's reason; `reason` the audit's).
   */
  private async recordChange(
    tx: EntityManager,
    meta: RequestMeta,
    written: { version: number; updatedAt: Date },
    changes: SettingChangeEntry[],
    audit: { action: string; reason?: string; historyReason?: string; changes: Record<string, unknown> },
  ): Promise<SettingsChangeRow> {
    const entry: SettingsChangeRow = {
      id: randomUUID(),
      version: written.version,
      at: written.updatedAt,
      actorId: meta.actor?.id ?? null,
      actorEmail: meta.actor?.email ?? null,
      reason: audit.historyReason ?? null,
      changes,
    };
    await insertChange(tx, entry);
    await this.deps.audit.record(tx, meta, {
      action: audit.action,
      resourceType: 'SystemSettings',
      resourceId: String(written.version),
      ...(audit.reason !== undefined ? { reason: audit.reason } : {}),
      changes: audit.changes,
    });
    return entry;
  }

  /** After a commit: apply here, tell the other instances, raise the INFO alert. */
  private async announce(change: SettingsChangeRow): Promise<void> {
    try {
      this.deps.pubsub.publish(SETTINGS_CHANGED, { version: change.version });
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not announce a settings change; other instances apply it at their next poll');
    }
    await this.refresh();
    const keys = change.changes.map((c) => c.key);
    // Awaited (a failure only logged): the CLI exits right after, and an alert must not be lost to that.
    await this.raiseAlert?.({
      level: AlertLevel.INFO,
      source: 'settings',
      fingerprint: `settings:version:${change.version}`,
      title: 'System settings changed',
      message: `${change.actorEmail ?? 'The system'} changed ${keys.join(', ')} (version ${change.version})${change.reason ? `: ${change.reason}` : ''}.`,
      labels: { version: change.version, keys: keys.slice(0, 40) },
    }).catch((err: unknown) => this.deps.logger.warn({ err }, 'could not raise the settings-change alert'));
  }

  /** The history of changes (made within `args.at` when given), newest first, as a Relay page (`first`/`after` or `last`/`before`). */
  async history(em: EntityManager, args: PageArgs & { at?: { from: Date | null; to: Date | null } }): Promise<Page<SettingsChangeRow>> {
    const window = pageWindow(args);
    let cursor: { at: string; id: string } | null = null;
    if (window.cursor) {
      const argument = cursorArgument(window);
      const [at, id] = decodeCursor(window.cursor, 2, argument);
      if (typeof at !== 'string' || Number.isNaN(Date.parse(at)) || !isUuid(String(id))) {
        throw new BadUserInputError(`${argument} is not a cursor this list gave out`, argument);
      }
      cursor = { at, id: String(id) };
    }
    const walk = keysetSql('desc', window);
    const { rows, total } = await listChanges(em, { ...walk, limit: window.size ? pageLimit(window.size) : 0 }, cursor, args.at);
    return toPage(rows, window, (r) => [r.at.toISOString(), r.id], total);
  }

  /** History entries by id (for `node`), in order; null for an unknown id. */
  changesById(em: EntityManager, ids: readonly string[]): Promise<(SettingsChangeRow | null)[]> {
    return changesById(em, ids);
  }

  /**
   * Turns maintenance on for a holder (a restore) with a lease renewed by this process every
   * third of its length; if the process dies the lease runs out (30 s by default) and maintenance
   * ends unless something else holds it. Audited and kept in the history; every instance applies
   * it within one poll period. Call {@link awaitWritesStopped} to know that no instance still runs
   * a write, and `release` when done.
   */
  async enterMaintenance(meta: RequestMeta, options: { reason: string; message?: string | null }): Promise<MaintenanceHold> {
    const reason = options.reason.trim().slice(0, 500) || 'maintenance';
    const message = options.message?.trim() ? options.message.trim().slice(0, MAX_MAINTENANCE_MESSAGE) : null;
    const id = randomUUID();
    const since = new Date();
    const hold = { id, reason, message, since, instanceId: this.deps.instanceId };
    const change = await this.deps.orm.em.fork().transactional(async (tx) => {
      const current = await lockSettings(tx);
      const wasOn = effectiveMaintenance(current).enabled;
      await upsertHold(tx, hold, this.holdLeaseMs);
      const written = await bumpVersion(tx, meta.actor?.id ?? null);
      return this.recordChange(tx, meta, written, [maintenanceFlag(wasOn, true)], {
        action: 'MAINTENANCE_ENTER',
        reason,
        historyReason: `maintenance entered: ${reason}`,
        changes: { before: { maintenance: wasOn }, after: { maintenance: true }, holdId: id },
      });
    });
    const renew = setInterval(() => {
      void upsertHold(this.deps.orm.em.fork(), hold, this.holdLeaseMs).catch((err) =>
        this.deps.logger.warn({ err, holdId: id }, 'could not renew a maintenance lease'),
      );
    }, Math.max(100, Math.floor(this.holdLeaseMs / 3)));
    renew.unref();
    this.holdTimers.set(id, renew);
    await this.announce(change);
    return {
      id,
      reason,
      version: change.version,
      reassert: async () => {
        await upsertHold(this.deps.orm.em.fork(), hold, this.holdLeaseMs);
        this.deps.pubsub.publish(SETTINGS_CHANGED, { version: change.version });
        await this.refresh();
      },
      release: (releaseMeta) => this.exitMaintenance(releaseMeta, hold),
    };
  }

  private async exitMaintenance(meta: RequestMeta, hold: { id: string; reason: string }): Promise<void> {
    clearInterval(this.holdTimers.get(hold.id));
    this.holdTimers.delete(hold.id);
    const change = await this.deps.orm.em.fork().transactional(async (tx) => {
      await lockSettings(tx);
      if (!(await deleteHold(tx, hold.id))) return null;
      const after = await readSettings(tx);
      const stillOn = effectiveMaintenance(after).enabled;
      const written = await bumpVersion(tx, meta.actor?.id ?? null);
      return this.recordChange(tx, meta, written, [maintenanceFlag(true, stillOn)], {
        action: 'MAINTENANCE_EXIT',
        reason: hold.reason,
        historyReason: `maintenance left: ${hold.reason}`,
        changes: { before: { maintenance: true }, after: { maintenance: stillOn }, holdId: hold.id },
      });
    });
    if (change) await this.announce(change);
  }

  /**
   * Resolves when every live instance (reported within three heartbeat periods, this one
   * included) applies the current maintenance state and has no write in flight under it, or when
   * `timeoutMs` (default 10 s) passes. Call after maintenance is on; `stopped: false` names the
   * instances that did not confirm.
   */
  async awaitWritesStopped(options: { timeoutMs?: number } = {}): Promise<WritesStoppedResult> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    const target = (await this.refresh()).version;
    if (this.timer) this.report();
    await this.reporting;
    for (;;) {
      let waitingFor: string[] = [];
      try {
        const live = await liveInstances(this.deps.orm.em.fork(), this.heartbeatMs * 3);
        waitingFor = live
          .filter((i) => i.appliedVersion < target || i.writesStoppedSignature === null || i.writesStoppedSignature !== i.appliedSignature)
          .map((i) => i.instanceId);
        if (!waitingFor.length && this.snapshot.maintenance.enabled) return { stopped: true, waitingFor: [] };
      } catch (err) {
        this.deps.logger.warn({ err }, 'could not read the instances’ settings reports');
        waitingFor = ['(database unavailable)'];
      }
      if (Date.now() >= deadline) return { stopped: false, waitingFor };
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
