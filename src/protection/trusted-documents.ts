import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  GraphQLError,
  Kind,
  parse,
  print,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
} from 'graphql';
import { ErrorCode, ForbiddenError } from '../errors';

/** The sha256 (hex) of a document's exact text, as APQ and the manifest key it. */
export function documentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The registered operations: sha256 of a document's text → that text. */
export type TrustedDocumentManifest = Record<string, string>;

/** Reads a manifest written by `npm run trusted-documents`. */
export function loadManifest(file: string): TrustedDocumentManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read the trusted-documents manifest ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file} is not a JSON object of sha256 → document`);
  const manifest: TrustedDocumentManifest = {};
  for (const [hash, text] of Object.entries(raw)) {
    if (typeof text !== 'string' || documentHash(text) !== hash) {
      throw new Error(`${file}: entry ${hash} does not hold the document its hash names`);
    }
    manifest[hash] = text;
  }
  return manifest;
}

function fragmentsUsed(node: DefinitionNode, fragments: Map<string, FragmentDefinitionNode>, into: Set<string>): void {
  visit(node, {
    FragmentSpread(spread) {
      const name = spread.name.value;
      if (into.has(name)) return;
      into.add(name);
      const def = fragments.get(name);
      if (def) fragmentsUsed(def, fragments, into);
    },
  });
}

/** The text an operation is registered under: the operation, then the fragments it uses in name order. */
function canonicalText(def: DefinitionNode, fragments: Map<string, FragmentDefinitionNode>): string {
  const used = new Set<string>();
  fragmentsUsed(def, fragments, used);
  const definitions = [def, ...[...used].sort().flatMap((name) => fragments.get(name) ?? [])];
  return print({ kind: Kind.DOCUMENT, definitions });
}

/**
 * The manifest hash of the operation a client sent as text (the same operation printed with its
 * fragments in another order or spacing still matches); null when the text does not parse or
 * does not name one operation.
 */
export function canonicalHash(text: string, operationName?: string | null): string | null {
  let doc: DocumentNode;
  try {
    doc = parse(text);
  } catch {
    return null;
  }
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of doc.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const operations = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const op = operationName ? operations.find((d) => d.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  return op ? documentHash(canonicalText(op, fragments)) : null;
}

/**
 * Builds a manifest from client operation sources: one entry per operation, its text being
 * `print()` of the operation followed by the fragments it uses (in name order), which is
 * what a client sends when it prints a codegen typed document. Fragments may live in any file.
 */
export function buildManifest(sources: string[]): TrustedDocumentManifest {
  const documents: DocumentNode[] = sources.map((s) => parse(s));
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const doc of documents) {
    for (const def of doc.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  const manifest: TrustedDocumentManifest = {};
  for (const doc of documents) {
    for (const def of doc.definitions) {
      if (def.kind !== Kind.OPERATION_DEFINITION) continue;
      const text = canonicalText(def, fragments);
      manifest[documentHash(text)] = text;
    }
  }
  return manifest;
}

/** What a request names as its document: the sha256 of a registered one, and/or the text itself. */
export interface DocumentReference {
  hash?: string;
  query?: string;
  operationName?: string | null;
}

/** The outcome of looking a reference up in the manifest. */
export type TrustedLookup =
  | { ok: true; query: string }
  | { ok: false; error: GraphQLError; reason: string };

/**
 * Resolves a request against the manifest: a known hash gives its document; text is accepted
 * when it (or its canonical print) is registered. An unknown hash is PERSISTED_QUERY_NOT_FOUND
 * (HTTP 400), unregistered text FORBIDDEN (HTTP 403).
 */
export function lookUpTrustedDocument(manifest: TrustedDocumentManifest, ref: DocumentReference): TrustedLookup {
  if (ref.query !== undefined) {
    if (manifest[documentHash(ref.query)] !== undefined) return { ok: true, query: ref.query };
    const canonical = canonicalHash(ref.query, ref.operationName);
    if (canonical && manifest[canonical] !== undefined) return { ok: true, query: ref.query };
    return {
      ok: false,
      reason: 'document not in the trusted-documents manifest',
      error: new ForbiddenError('Only registered operations are accepted by this gateway'),
    };
  }
  const query = ref.hash ? manifest[ref.hash.replace(/^sha256:/, '')] : undefined;
  if (query !== undefined) return { ok: true, query };
  return {
    ok: false,
    reason: `unknown document id ${String(ref.hash).slice(0, 80)}`,
    error: new GraphQLError('PersistedQueryNotFound: no registered operation has this id', {
      extensions: { code: ErrorCode.PERSISTED_QUERY_NOT_FOUND },
    }),
  };
}
