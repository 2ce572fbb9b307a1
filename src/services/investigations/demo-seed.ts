import { randomUUID } from 'node:crypto';
import { systemMeta } from '../../context';
import { User } from '../../entities/user.entity';
import type { Knex } from '@mikro-orm/postgresql';
import type { MikroORM } from '../../infra/db';
import { Role } from '../../permissions/roles';
import { ActionStatus, InvestigationStatus, RiskLevel } from '../../schema/investigation.enums';
import type { AuditRecorder } from './investigation.types';

/** What the seeder needs to create the demo users: the identity area's user service. */
export interface DemoUserCreator {
  create(meta: ReturnType<typeof systemMeta>, input: { email: string; name: string; role: Role; password: string }): Promise<User>;
}

export interface DemoSeedOptions {
  /** How many investigations to create. */
  investigations: number;
  /** Findings per investigation. @default 10 */
  findingsPer?: number;
  /** Password of the demo users created now (existing ones keep theirs). */
  password: string;
  /** Investigations per transaction and multi-row INSERT. @default 1000 */
  batchSize?: number;
  /** Seed of the pseudo-random generator, so two runs with the same seed create the same cases. @default 42 */
  seed?: number;
  /** Called after each batch with the number of investigations written so far. */
  onProgress?: (done: number, total: number) => void;
}

export interface DemoUser {
  role: Role;
  email: string;
  id: string;
  created: boolean;
}

export interface DemoSeedResult {
  users: DemoUser[];
  investigations: number;
  findings: number;
  actions: number;
  notes: number;
}

/** The demo account of each role: `demo.<role>@vigil.example`. */
export function demoEmail(role: Role): string {
  return `demo.${role.toLowerCase().replace(/_/g, '-')}@vigil.example`;
}

/** mulberry32: small, fast and good enough to make demo data varied yet reproducible. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    weighted: <T>(items: readonly [T, number][]): T => {
      const total = items.reduce((s, [, w]) => s + w, 0);
      let r = next() * total;
      for (const [item, w] of items) {
        r -= w;
        if (r <= 0) return item;
      }
      return items[items.length - 1]![0];
    },
  };
}

const CASES: readonly { title: string; description: string; trigger: string; tags: string[] }[] = [
  { title: 'Credential stuffing against the login endpoint from {asn}', description: 'Spike of failed logins with leaked credential pairs; {n} accounts affected.', trigger: 'rule:login-failure-rate > 40/min per ASN', tags: ['account-takeover', 'credential-stuffing'] },
  { title: 'Account takeover wave: password resets from new devices', description: 'Password resets followed by payout changes within minutes on {n} accounts.', trigger: 'rule:reset-then-payout-change', tags: ['account-takeover', 'payments'] },
  { title: 'Phishing domain impersonating the brand ({domain})', description: 'Lookalike domain collecting credentials; reported by {n} users.', trigger: 'report:user-abuse-form', tags: ['phishing', 'brand-abuse'] },
  { title: 'Card testing through the checkout API', description: 'Small authorisations from rotating cards, {n} attempts in an hour.', trigger: 'rule:auth-decline-ratio', tags: ['payments', 'fraud'] },
  { title: 'Coordinated inauthentic accounts boosting listings', description: 'Cluster of {n} new accounts with shared device fingerprints rating the same sellers.', trigger: 'query:shared-fingerprint-clusters', tags: ['fake-accounts', 'marketplace'] },
  { title: 'Spam campaign in direct messages linking to {domain}', description: 'Burst of identical messages from {n} accounts created the same day.', trigger: 'rule:message-similarity', tags: ['spam', 'messaging'] },
  { title: 'Chargeback abuse by a reseller ring', description: '{n} disputes filed after delivery confirmation across linked accounts.', trigger: 'report:finance-escalation', tags: ['payments', 'chargebacks'] },
  { title: 'Bot signups bypassing the captcha from {asn}', description: 'Headless browser signatures on {n} registrations.', trigger: 'rule:signup-velocity', tags: ['bots', 'fake-accounts'] },
  { title: 'Harassment report against a creator community', description: 'Targeted abuse reported by {n} members; possible brigading.', trigger: 'report:trust-safety-queue', tags: ['harassment', 'community'] },
  { title: 'API key leaked in a public repository', description: 'Key with write scope found in a public repository; {n} calls since publication.', trigger: 'scanner:secret-detection', tags: ['security', 'leak'] },
  { title: 'Promo code abuse via disposable email domains', description: '{n} redemptions from disposable inboxes.', trigger: 'query:promo-redemptions-by-domain', tags: ['promo-abuse', 'fraud'] },
  { title: 'Impossible travel logins for privileged staff', description: 'Sessions from two continents within {n} minutes.', trigger: 'rule:impossible-travel', tags: ['security', 'insider'] },
];

const FINDINGS: readonly string[] = [
  'Login attempts from one address using {n} distinct credential pairs',
  'Device fingerprint shared by {n} accounts',
  'Payout details changed {n} minutes after password reset',
  'Domain registered {n} days ago with privacy proxy',
  'Message template matched {n} reports in the last day',
  'Card BIN range tested {n} times with declines',
  'Account created from a hosting-provider network ({asn})',
  'User agent string matches a known automation framework',
  'Refund requested on {n} orders marked delivered',
  'Session token reused from a new address after logout',
];

const ACTIONS: readonly string[] = [
  'Force password reset for affected accounts',
  'Block the ASN at the edge for 24 hours',
  'Request takedown of the phishing domain',
  'Freeze payouts pending review',
  'Rotate the leaked API key',
  'Add the fingerprint cluster to the watch list',
  'Notify affected users by email',
  'Tighten the signup rate limit',
];

const NOTES: readonly string[] = [
  'Confirmed with the payments team; pattern matches last quarter’s ring.',
  'Waiting on the registrar for the takedown.',
  'False positives look low; sampled 20 accounts by hand.',
  'Escalating: volume doubled overnight.',
  'Legal asked to keep evidence for 90 days.',
  'Linked to an earlier investigation with the same fingerprints.',
];

const NAMES = ['Alex Morgan', 'Sam Rivera', 'Jordan Lee', 'Casey Kim', 'Riley Chen', 'Taylor Singh', 'Jamie Novak', 'Robin Okafor'];
const ASNS = ['AS14061', 'AS16509', 'AS24940', 'AS45102', 'AS9009', 'AS63949'];
const DOMAINS = ['secure-login-help.example', 'account-verify.example', 'promo-gifts.example', 'support-desk.example'];
const SOURCES = ['login-service', 'payments', 'messaging', 'abuse-reports', 'edge-waf', 'signup-service'];
const EXTRA_TAGS = ['priority', 'repeat-offender', 'needs-legal', 'apac', 'emea', 'amer', 'automation'];

const DAY_MS = 24 * 3600 * 1000;

/** Column arrays as query bindings: node-postgres sends each as one PostgreSQL array parameter. */
function arrays(columns: unknown[][]): readonly Knex.Value[] {
  return columns as Knex.Value[];
}

/**
 * Creates one demo user per role and `investigations` realistic investigations with findings,
 * recommended actions and notes. Rows are written with `INSERT … SELECT FROM unnest(…)`: one
 * statement per table per batch whatever the batch size, each batch in its own transaction.
 */
export async function seedDemo(
  orm: MikroORM,
  deps: { users: DemoUserCreator; audit: AuditRecorder },
  options: DemoSeedOptions,
): Promise<DemoSeedResult> {
  const findingsPer = options.findingsPer ?? 10;
  const batchSize = options.batchSize ?? 1000;
  const rand = generator(options.seed ?? 42);
  const meta = systemMeta('seed --demo');

  const users: DemoUser[] = [];
  for (const role of Object.values(Role)) {
    const email = demoEmail(role);
    const existing = await orm.em.fork().findOne(User, { email });
    if (existing) {
      users.push({ role, email, id: existing.id, created: false });
    } else {
      const name = `Demo ${role.toLowerCase().replace(/_/g, ' ')}`;
      const user = await deps.users.create(meta, { email, name, role, password: options.password });
      users.push({ role, email, id: user.id, created: true });
    }
  }
  const workers = users.filter((u) => u.role !== Role.VIEWER).map((u) => u.id);
  const creators = users.filter((u) => u.role !== Role.VIEWER).map((u) => u.id);

  const totals = { investigations: 0, findings: 0, actions: 0, notes: 0 };
  const now = Date.now();
  const knex = orm.em.getKnex();
  options.onProgress?.(0, options.investigations);

  for (let start = 0; start < options.investigations; start += batchSize) {
    const count = Math.min(batchSize, options.investigations - start);
    const inv = { id: [] as string[], title: [] as string[], description: [] as string[], trigger: [] as string[], status: [] as string[], risk: [] as string[], assignee: [] as (string | null)[], creator: [] as string[], tags: [] as string[], version: [] as number[], created: [] as Date[], updated: [] as Date[], closed: [] as (Date | null)[] };
    const fnd = { id: [] as string[], inv: [] as string[], summary: [] as string[], evidence: [] as string[], risk: [] as string[], source: [] as string[], observed: [] as Date[], email: [] as string[], ip: [] as string[], name: [] as string[], creator: [] as string[], created: [] as Date[] };
    const act = { id: [] as string[], inv: [] as string[], title: [] as string[], detail: [] as string[], status: [] as string[], owner: [] as (string | null)[], due: [] as (Date | null)[], creator: [] as string[], created: [] as Date[], updated: [] as Date[] };
    const nts = { id: [] as string[], inv: [] as string[], author: [] as string[], body: [] as string[], created: [] as Date[] };

    for (let k = 0; k < count; k++) {
      const n = start + k;
      const template = rand.pick(CASES);
      const fill = (text: string) =>
        text.replace('{asn}', rand.pick(ASNS)).replace('{domain}', rand.pick(DOMAINS)).replace('{n}', String(rand.int(3, 400)));
      const createdAt = new Date(now - rand.int(0, 180 * DAY_MS) - n);
      const status = rand.weighted<InvestigationStatus>([
        [InvestigationStatus.OPEN, 30], [InvestigationStatus.IN_PROGRESS, 35], [InvestigationStatus.ESCALATED, 10], [InvestigationStatus.CLOSED, 25],
      ]);
      const risk = rand.weighted<RiskLevel>([[RiskLevel.LOW, 25], [RiskLevel.MEDIUM, 40], [RiskLevel.HIGH, 25], [RiskLevel.CRITICAL, 10]]);
      const updatedAt = new Date(Math.min(now, createdAt.getTime() + rand.int(0, 20 * DAY_MS)));
      const id = randomUUID();
      const tags = [...template.tags, ...(rand.next() < 0.4 ? [rand.pick(EXTRA_TAGS)] : [])];
      inv.id.push(id);
      inv.title.push(`${fill(template.title)} #${n + 1}`);
      inv.description.push(fill(template.description));
      inv.trigger.push(template.trigger);
      inv.status.push(status);
      inv.risk.push(risk);
      inv.assignee.push(status === InvestigationStatus.OPEN && rand.next() < 0.5 ? null : rand.pick(workers));
      inv.creator.push(rand.pick(creators));
      inv.tags.push(JSON.stringify([...new Set(tags)]));
      inv.version.push(rand.int(1, 6));
      inv.created.push(createdAt);
      inv.updated.push(updatedAt);
      inv.closed.push(status === InvestigationStatus.CLOSED ? updatedAt : null);

      for (let f = 0; f < findingsPer; f++) {
        const ip = rand.next() < 0.8 ? `203.0.113.${rand.int(1, 254)}` : `2001:db8::${rand.int(1, 0xffff).toString(16)}`;
        const name = rand.pick(NAMES);
        fnd.id.push(randomUUID());
        fnd.inv.push(id);
        // Summaries and evidence never repeat the subject's address, email or name: those are
        // personal data behind ACCESS_PII, and evidence is readable by every investigation reader.
        const asn = rand.pick(ASNS);
        fnd.summary.push(rand.pick(FINDINGS).replace('{asn}', asn).replace('{n}', String(rand.int(2, 500))));
        fnd.evidence.push(JSON.stringify({ asn, events: rand.int(1, 5000), sample: `evt_${rand.int(100000, 999999)}` }));
        fnd.risk.push(rand.weighted<RiskLevel>([[RiskLevel.LOW, 30], [RiskLevel.MEDIUM, 40], [RiskLevel.HIGH, 20], [RiskLevel.CRITICAL, 10]]));
        fnd.source.push(rand.pick(SOURCES));
        fnd.observed.push(new Date(createdAt.getTime() - rand.int(0, 3 * DAY_MS)));
        fnd.email.push(`${name.toLowerCase().replace(' ', '.')}.${rand.int(1, 9999)}@example.com`);
        fnd.ip.push(ip);
        fnd.name.push(name);
        fnd.creator.push(rand.pick(creators));
        fnd.created.push(new Date(createdAt.getTime() + f * 60_000));
      }
      const actionCount = rand.int(0, 3);
      for (let a = 0; a < actionCount; a++) {
        act.id.push(randomUUID());
        act.inv.push(id);
        act.title.push(rand.pick(ACTIONS));
        act.detail.push('Recommended after reviewing the findings.');
        act.status.push(rand.pick(Object.values(ActionStatus)));
        act.owner.push(rand.next() < 0.7 ? rand.pick(workers) : null);
        act.due.push(rand.next() < 0.6 ? new Date(createdAt.getTime() + rand.int(1, 14) * DAY_MS) : null);
        act.creator.push(rand.pick(creators));
        act.created.push(new Date(createdAt.getTime() + (a + 1) * 3_600_000));
        act.updated.push(updatedAt);
      }
      const noteCount = rand.int(0, 3);
      for (let m = 0; m < noteCount; m++) {
        nts.id.push(randomUUID());
        nts.inv.push(id);
        nts.author.push(rand.pick(workers));
        nts.body.push(rand.pick(NOTES));
        nts.created.push(new Date(createdAt.getTime() + (m + 1) * 7_200_000));
      }
    }

    await knex.transaction(async (trx) => {
      await trx.raw(
        `insert into investigation (id, title, description, trigger, status, risk_level, assignee_id, created_by_id, tags, version, created_at, updated_at, closed_at)
         select id, title, description, trigger, status, risk_level, assignee_id, created_by_id,
                array(select jsonb_array_elements_text(tags::jsonb)), version, created_at, updated_at, closed_at
         from unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::uuid[], ?::uuid[], ?::text[], ?::int[], ?::timestamptz[], ?::timestamptz[], ?::timestamptz[])
           as t(id, title, description, trigger, status, risk_level, assignee_id, created_by_id, tags, version, created_at, updated_at, closed_at)`,
        arrays([inv.id, inv.title, inv.description, inv.trigger, inv.status, inv.risk, inv.assignee, inv.creator, inv.tags, inv.version, inv.created, inv.updated, inv.closed]),
      );
      if (fnd.id.length) {
        await trx.raw(
          `insert into finding (id, investigation_id, summary, evidence, risk_level, source, observed_at, subject_email, subject_ip, subject_name, created_by_id, created_at)
           select id, investigation_id, summary, evidence::jsonb, risk_level, source, observed_at, subject_email, subject_ip, subject_name, created_by_id, created_at
           from unnest(?::uuid[], ?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::text[], ?::text[], ?::text[], ?::uuid[], ?::timestamptz[])
             as t(id, investigation_id, summary, evidence, risk_level, source, observed_at, subject_email, subject_ip, subject_name, created_by_id, created_at)`,
          arrays([fnd.id, fnd.inv, fnd.summary, fnd.evidence, fnd.risk, fnd.source, fnd.observed, fnd.email, fnd.ip, fnd.name, fnd.creator, fnd.created]),
        );
      }
      if (act.id.length) {
        await trx.raw(
          `insert into recommended_action (id, investigation_id, title, detail, status, owner_id, due_at, created_by_id, created_at, updated_at)
           select * from unnest(?::uuid[], ?::uuid[], ?::text[], ?::text[], ?::text[], ?::uuid[], ?::timestamptz[], ?::uuid[], ?::timestamptz[], ?::timestamptz[])`,
          arrays([act.id, act.inv, act.title, act.detail, act.status, act.owner, act.due, act.creator, act.created, act.updated]),
        );
      }
      if (nts.id.length) {
        await trx.raw(
          `insert into note (id, investigation_id, author_id, body, created_at)
           select * from unnest(?::uuid[], ?::uuid[], ?::uuid[], ?::text[], ?::timestamptz[])`,
          arrays([nts.id, nts.inv, nts.author, nts.body, nts.created]),
        );
      }
    });
    totals.investigations += count;
    totals.findings += fnd.id.length;
    totals.actions += act.id.length;
    totals.notes += nts.id.length;
    options.onProgress?.(totals.investigations, options.investigations);
  }

  await orm.em.fork().transactional((tx) =>
    deps.audit.record(tx, meta, {
      action: 'DEMO_SEED',
      resourceType: 'Investigation',
      changes: { ...totals, users: users.filter((u) => u.created).map((u) => u.email) },
    }),
  );
  return { users, ...totals };
}
