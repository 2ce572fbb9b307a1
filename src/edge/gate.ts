import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { ErrorCode, ForbiddenError, RateLimitedError, ServiceUnavailableError } from '../errors';
import { Permission } from '../permissions/roles';
import type { LimitDecision } from '../protection/resilient-limiter';
import type { SecurityEventRecorder } from '../protection/security-events';
import { lookUpTrustedDocument, type TrustedDocumentManifest } from '../protection/trusted-documents';
import { checkDocumentShape, checkTokens, measureOperation } from './analysis';
import { refusal, withoutSuggestions, type Refusal } from './errors';
import { checkNulInputs, checkVariableBounds } from './inputs';
import type { RateLimiters } from './limiters';
import { callerMeta, type Caller, type GraphQLParams } from './request';
import type { EdgeSettingsSource } from './settings';
import { maintenanceRefusal } from './writes';

/**
 * The maintenance check of the operation stage: the refusal a mutation with these root fields gets
 * now (SERVICE_UNAVAILABLE with `retryAfter` and `reason`), or null (see `WriteGate.refusal`).
 */
export type MaintenanceCheck = (rootFields: readonly string[]) => ServiceUnavailableError | null;

/** Characters of document text whose parsed, measured document is remembered. */
const PASSED_DOCUMENTS_CHARS = 1_000_000;

export interface GateDeps {
  schema: GraphQLSchema;
  settings: EdgeSettingsSource;
  limiters: RateLimiters;
  record: SecurityEventRecorder;
  /** Present in allow-listed mode. */
  manifest?: TrustedDocumentManifest;
  /** The maintenance check; absent: never in maintenance. Run on every mutation. */
  maintenance?: MaintenanceCheck;
}

/** What the document stage let through. */
export interface AdmittedDocument {
  /** The text to run (a trusted document's text when it was named by id); absent for an APQ hash alone. */
  query?: string;
  document?: DocumentNode;
  /** The operation to run; null when the document names none that resolves (validation answers). */
  operation?: OperationDefinitionNode | null;
}

export type DocumentVerdict = ({ ok: true } & AdmittedDocument) | { ok: false; refusal: Refusal };

export type OperationVerdict = { ok: true; variables: Record<string, unknown> } | { ok: false; refusal: Refusal };

/** The one admission pipeline every transport runs a request through; see {@link createGate}. */
export interface Gate {
  /** The caller's request limit: per user (by role) when signed in, else per IP. */
  admitRequest(caller: Caller): Promise<Refusal | null>;
  /** Trusted documents, variable bounds, token count, parse, shape limits, U+0000 in inputs. */
  admitDocument(caller: Caller, params: GraphQLParams): DocumentVerdict;
  /** Variables coerced, introspection policy, cost, maintenance, sign-in limit, cost budget. */
  admitOperation(caller: Caller, document: DocumentNode, operation: OperationDefinitionNode, variables: unknown): Promise<OperationVerdict>;
  /** Whether introspection (and so schema names in error messages) is allowed for the caller. */
  introspectionAllowed(caller: Caller): boolean;
}

function rateLimitedRefusal(caller: Caller, decision: LimitDecision, message?: string, extra: Record<string, unknown> = {}): Refusal {
  const error = new RateLimitedError(decision.retryAfterSeconds, message);
  Object.assign(error.extensions, extra);
  return refusal(error, 429, caller.requestId, { 'retry-after': String(decision.retryAfterSeconds) });
}

/** An email as the sign-in limit keys it: the same address however it is spelled. */
export function normaliseEmail(email: unknown): string {
  return typeof email === 'string' ? email.normalize('NFKC').trim().toLowerCase() : '';
}

/**
 * The root fields of an operation, through inline fragments and named fragments (each fragment
 * expanded once: a field spread twice through one fragment runs once).
 */
function rootFields(document: DocumentNode, operation: OperationDefinitionNode) {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const seen = new Set<string>();
  const fields = [];
  const stack: SelectionSetNode[] = [operation.selectionSet];
  while (stack.length) {
    for (const selection of stack.pop()!.selections) {
      if (selection.kind === Kind.FIELD) fields.push(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) stack.push(selection.selectionSet);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        const def = fragments.get(selection.name.value);
        if (def) stack.push(def.selectionSet);
      }
    }
  }
  return fields;
}

/** The normalised emails of every `login` field of a mutation (literal or variable), none for other operations. */
export function loginEmails(document: DocumentNode, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>>): string[] {
  if (operation.operation !== 'mutation') return [];
  const emails = new Set<string>();
  for (const field of rootFields(document, operation)) {
    if (field.name.value !== 'login') continue;
    const arg = field.arguments?.find((a) => a.name.value === 'email')?.value;
    if (arg?.kind === Kind.STRING) emails.add(normaliseEmail(arg.value));
    else if (arg?.kind === Kind.VARIABLE) emails.add(normaliseEmail(variables[arg.name.value]));
    else emails.add('');
  }
  return [...emails];
}

/**
 * The edge's admission pipeline, transport-independent: HTTP (POST and GET, through the fastify
 * and Apollo adapters) and websocket `subscribe` messages (queries, mutations and subscriptions,
 * through the graphql-ws adapter) pass the same stages, so one request gets one answer whatever
 * carried it. Each refusal is recorded once as a security event and returned as one typed error
 * with `extensions.code`, `requestId` (and `retryAfter` where it applies) and the HTTP status.
 * Every figure is read from `settings()` at the time of the request.
 */
export function createGate(deps: GateDeps): Gate {
  const { schema, settings, limiters, record, manifest } = deps;

  // Clients repeat their documents: one that passed the token, parse and shape checks is kept
  // (parsed) by its text until the limits change; its variables are still checked every time.
  const passed = new LRUCache<string, DocumentNode>({ maxSize: PASSED_DOCUMENTS_CHARS, sizeCalculation: (_v, key) => key.length || 1 });
  let passedUnder: unknown;

  const introspectionAllowed = (caller: Caller): boolean => {
    const policy = settings().introspection;
    return policy === 'on' || (policy === 'admin' && !!caller.viewer?.permissions.has(Permission.ADMIN_ACCESS));
  };

  const tooComplex = (caller: Caller, error: GraphQLError, operationName: string | null): Refusal => {
    const { code: _code, ...figure } = error.extensions;
    record(callerMeta(caller, operationName), { action: 'QUERY_TOO_COMPLEX', reason: error.message, changes: figure });
    return refusal(error, 400, caller.requestId);
  };

  const admitRequest = async (caller: Caller): Promise<Refusal | null> => {
    if (!limiters.enabled()) return null;
    const viewer = caller.viewer;
    const decision = viewer ? await limiters.forRole(viewer.role).consume(`user:${viewer.id}`) : await limiters.anonymous().consume(`ip:${caller.ip}`);
    if (decision.allowed) return null;
    if (decision.firstRejection) {
      record(callerMeta(caller), { action: 'RATE_LIMITED', reason: `more than ${decision.limit} requests per window (${viewer ? 'user' : 'IP'})` });
    }
    return rateLimitedRefusal(caller, decision);
  };

  const admitDocument = (caller: Caller, params: GraphQLParams): DocumentVerdict => {
    const limits = settings().limits;
    if (limits !== passedUnder) {
      passed.clear();
      passedUnder = limits;
    }
    const operationName = params.operationName ?? null;
    let query = params.query;
    const known = query !== undefined && !manifest ? passed.get(query) : undefined;
    if (query !== undefined && !known) {
      const tooMany = checkTokens(query, limits.maxTokens);
      if (tooMany) return { ok: false, refusal: tooComplex(caller, tooMany, operationName) };
    }
    if (manifest) {
      const lookup = lookUpTrustedDocument(manifest, { hash: params.hash, query, operationName });
      if (!lookup.ok) {
        record(callerMeta(caller, operationName), { action: 'UNTRUSTED_DOCUMENT', reason: lookup.reason });
        const status = lookup.error.extensions.code === ErrorCode.FORBIDDEN ? 403 : 400;
        return { ok: false, refusal: refusal(lookup.error, status, caller.requestId) };
      }
      query = lookup.query;
    }
    const bounds = checkVariableBounds(params.variables, settings().variables);
    if (bounds) return { ok: false, refusal: refusal(bounds, 400, caller.requestId) };
    if (query === undefined) return { ok: true };
    const variables = params.variables && typeof params.variables === 'object' ? (params.variables as Record<string, unknown>) : null;
    if (known) {
      const nul = checkNulInputs(known, variables);
      if (nul) return { ok: false, refusal: refusal(nul, 400, caller.requestId) };
      return { ok: true, query, document: known, operation: getOperationAST(known, params.operationName ?? undefined) };
    }
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: limits.maxTokens });
    } catch (error) {
      const syntax = error instanceof GraphQLError ? error : new GraphQLError('Syntax Error');
      const parseFailed = new GraphQLError(syntax.message, {
        source: syntax.source,
        positions: syntax.positions,
        extensions: { code: ErrorCode.GRAPHQL_PARSE_FAILED },
      });
      return { ok: false, refusal: refusal(parseFailed, 400, caller.requestId) };
    }
    const shape = checkDocumentShape(schema, document, limits);
    if (shape) return { ok: false, refusal: tooComplex(caller, shape, operationName) };
    passed.set(query, document);
    const nul = checkNulInputs(document, variables);
    if (nul) return { ok: false, refusal: refusal(nul, 400, caller.requestId) };
    return { ok: true, query, document, operation: getOperationAST(document, params.operationName ?? undefined) };
  };

  const admitOperation = async (
    caller: Caller,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    rawVariables: unknown,
  ): Promise<OperationVerdict> => {
    const s = settings();
    const operationName = operation.name?.value ?? null;
    const meta = () => callerMeta(caller, operationName);
    const inputs = rawVariables && typeof rawVariables === 'object' && !Array.isArray(rawVariables) ? (rawVariables as Record<string, unknown>) : {};
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], inputs, { maxErrors: 1 });
    if (coerced.errors) {
      const first = coerced.errors[0]!;
      const message = introspectionAllowed(caller) ? first.message : withoutSuggestions(first.message);
      const error = new GraphQLError(message, { nodes: first.nodes, extensions: { code: ErrorCode.BAD_USER_INPUT } });
      return { ok: false, refusal: refusal(error, 400, caller.requestId) };
    }
    const variables = coerced.coerced;

    const { figures, exceeded } = measureOperation(schema, document, operation, s.limits, variables);
    if (exceeded) return { ok: false, refusal: tooComplex(caller, exceeded, operationName) };
    if (figures.introspection && s.introspection === 'admin' && !introspectionAllowed(caller)) {
      record(meta(), { action: 'INTROSPECTION_DENIED', reason: 'introspection is limited to ADMIN_ACCESS' });
      const error = new ForbiddenError('Introspection is limited to administrators; use the published schema.graphql');
      return { ok: false, refusal: refusal(error, 403, caller.requestId) };
    }

    if (operation.operation === 'mutation' && deps.maintenance) {
      const refused = deps.maintenance(rootFields(document, operation).map((f) => f.name.value));
      if (refused) return { ok: false, refusal: maintenanceRefusal(refused, caller.requestId) };
    }

    if (!limiters.enabled()) return { ok: true, variables };
    for (const email of loginEmails(document, operation, variables)) {
      const decision = await limiters.login().consume(`${caller.ip}|${email}`);
      if (!decision.allowed) {
        if (decision.firstRejection) {
          record(meta(), {
            action: 'RATE_LIMITED',
            reason: `more than ${decision.limit} sign-in attempts per window for one IP and email`,
            changes: { email },
          });
        }
        return { ok: false, refusal: rateLimitedRefusal(caller, decision, 'Too many sign-in attempts, retry later') };
      }
    }
    if (figures.cost > 0) {
      const who = caller.viewer ? `user:${caller.viewer.id}` : `ip:${caller.ip}`;
      const decision = await limiters.costBudget().consume(who, figures.cost);
      if (!decision.allowed) {
        if (decision.firstRejection) {
          record(meta(), {
            action: 'COST_BUDGET_EXCEEDED',
            reason: `operation cost budget of ${decision.limit} per window spent`,
            changes: { cost: figures.cost, budget: decision.limit },
          });
        }
        const message = 'The cost budget of this time window is spent, retry later';
        return { ok: false, refusal: rateLimitedRefusal(caller, decision, message, { cost: figures.cost, budget: decision.limit }) };
      }
    }
    return { ok: true, variables };
  };

  return { admitRequest, admitDocument, admitOperation, introspectionAllowed };
}

