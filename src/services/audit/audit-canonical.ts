import { createHash } from 'node:crypto';
import { sensitivityOfName } from '../../schema/sensitive-marks';

/** JSON as it is stored in `jsonb` and read back: what the hash is computed over. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What a changed value of personal data or a credential is replaced with. */
export const MASKED = '[masked]';

/** The longest string kept in an entry's `changes`; longer ones are cut with an ellipsis. */
export const MAX_CHANGE_STRING = 10_000;
/** Deeper nesting in `changes` is cut: audit diffs are flat field maps, not documents. */
const MAX_DEPTH = 8;
/** At most this many array items or object keys per level. */
const MAX_ITEMS = 1_000;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A string that survives PostgreSQL unchanged: `text` and `jsonb` refuse NUL and would replace a
 * lone surrogate, and then the stored entry would no longer match its hash.
 */
export function storableString(value: string, maxLength: number): string {
  const clean = value.replaceAll('\u0000', '\uFFFD').replace(LONE_SURROGATE, '\uFFFD');
  return clean.length > maxLength ? `${clean.slice(0, maxLength - 1)}…` : clean;
}

/**
 * Key words that mark a credential wherever they appear in a key, for the values that are no
 * schema element and so carry no `@sensitive` mark (`passwordHash`, `mfaSecretEncrypted` …).
 */
const SENSITIVE_WORDS = new Set([
  'password',
  'passwd',
  'secret',
  'token',
  'otp',
  'totp',
  'otpauth',
  'cookie',
  'authorization',
  'apikey',
  'pii',
]);
/**
 * Whether a key in `changes` holds personal data or a credential: a name marked `@sensitive` in
 * the schema (`subjectEmail`, `email`, `password` …, also written snake_case), or a credential word
 * (`passwordHash`, `refreshToken`, `mfaSecret` …, matched by word, so `footprint` is not mistaken
 * for an `otp`).
 */
export function isSensitiveKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const camel = words.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
  if (sensitivityOfName(key) !== null || sensitivityOfName(camel) !== null) return true;
  return words.some((w) => SENSITIVE_WORDS.has(w)) || SENSITIVE_WORDS.has(words.join(''));
}

/**
 * Turns an entry's `changes` into plain JSON that round-trips through `jsonb` exactly: dates to
 * ISO strings, bigints to strings, `undefined` and functions dropped, non-finite numbers to null,
 * strings made storable, and values under sensitive keys replaced with {@link MASKED} (null stays
 * null, so "was cleared" remains visible).
 */
export function normalizeChanges(value: unknown): JsonValue {
  return normalize(value, 0, new WeakSet());
}

function normalize(value: unknown, depth: number, seen: WeakSet<object>): JsonValue {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
      return storableString(value, MAX_CHANGE_STRING);
    case 'number':
      return Number.isFinite(value) ? (Object.is(value, -0) ? 0 : value) : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return null;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (depth >= MAX_DEPTH || seen.has(value)) return '[truncated]';
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      return value.slice(0, MAX_ITEMS).map((item) => normalize(item, depth + 1, seen));
    }
    const withJson = value as { toJSON?: () => unknown };
    if (typeof withJson.toJSON === 'function') return normalize(withJson.toJSON(), depth + 1, seen);
    const out: Record<string, JsonValue> = {};
    let count = 0;
    for (const [rawKey, item] of Object.entries(value)) {
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
      if (++count > MAX_ITEMS) break;
      const key = storableString(rawKey, 200);
      out[key] = isSensitiveKey(rawKey) ? (item === null ? null : MASKED) : normalize(item, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace. Two values that are equal as
 * JSON (whatever their key order) serialize identically, which is what makes the hash stable
 * across the `jsonb` round trip.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(',')}}`;
}

/**
 * An entry's time as it is hashed: ISO-8601 in UTC with microseconds, the precision PostgreSQL
 * stores (so an edit of the stored time by a microsecond still breaks the hash). Entries are
 * written with millisecond times: `2026-11-23T05:30:00.123000Z`.
 */
export function chainTime(at: Date): string {
  return at.toISOString().replace(/Z$/, '000Z');
}

/** SQL that reads a `timestamptz` column in the {@link chainTime} format. */
export const CHAIN_TIME_SQL = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The hashed content of an entry: every stored column except `id` and `hash`. */
export interface ChainedContent {
  seq: string;
  /** The time as {@link chainTime} writes it. */
  at: string;
  actorId: string | null;
  actorEmail: string | null;
  actorRole: string | null;
  action: string;
  resourceType: string | null;
  resourceId: string | null;
  outcome: string;
  changes: JsonValue;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  operationName: string | null;
  reason: string | null;
  prevHash: string | null;
}

/** SHA-256 (hex) of an entry's canonical content, including the previous entry's hash. */
export function entryHash(c: ChainedContent): string {
  return createHash('sha256').update(canonicalEntry(c)).digest('hex');
}

const str = (value: string | null) => (value === null ? 'null' : JSON.stringify(value));

/**
 * The canonical JSON of an entry's content: `canonicalJson` of `{ v: 1, ...content }`, written
 * out with its keys already in sorted order (verification hashes millions of these).
 */
export function canonicalEntry(c: ChainedContent): string {
  return (
    `{"action":${JSON.stringify(c.action)},"actorEmail":${str(c.actorEmail)},"actorId":${str(c.actorId)},` +
    `"actorRole":${str(c.actorRole)},"at":${JSON.stringify(c.at)},"changes":${canonicalJson(c.changes ?? null)},` +
    `"ip":${str(c.ip)},"operationName":${str(c.operationName)},"outcome":${JSON.stringify(c.outcome)},` +
    `"prevHash":${str(c.prevHash)},"reason":${str(c.reason)},"requestId":${str(c.requestId)},` +
    `"resourceId":${str(c.resourceId)},"resourceType":${str(c.resourceType)},"seq":${JSON.stringify(c.seq)},` +
    `"userAgent":${str(c.userAgent)},"v":1}`
  );
}
