import type { GraphQLError, GraphQLFormattedError } from 'graphql';

/**
 * An edge refusal: the one typed error every transport answers with, plus what HTTP adds to it
 * (status and headers such as `Retry-After`). The error already carries `extensions.requestId`.
 */
export interface Refusal {
  error: GraphQLError;
  status: number;
  headers: Record<string, string>;
}

/** Makes a refusal, stamping the request id on the error. */
export function refusal(error: GraphQLError, status: number, requestId: string, headers: Record<string, string> = {}): Refusal {
  (error.extensions as Record<string, unknown>).requestId = requestId;
  return { error, status, headers };
}

/** The media types a GraphQL response is served as, in Apollo's order of preference on a tie. */
export const GRAPHQL_RESPONSE_JSON = 'application/graphql-response+json';
export const APPLICATION_JSON = 'application/json';

function quality(accept: string, type: string): { q: number; order: number } {
  const [major] = type.split('/');
  let best = { q: 0, order: Number.POSITIVE_INFINITY, specificity: -1 };
  accept.split(',').forEach((part, order) => {
    const [range = '', ...params] = part.trim().toLowerCase().split(';');
    const media = range.trim();
    const specificity = media === type ? 2 : media === `${major}/*` ? 1 : media === '*/*' ? 0 : -1;
    if (specificity < 0 || specificity < best.specificity) return;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    best = { q: Number.isFinite(q) ? q : 0, order, specificity };
  });
  return { q: best.q, order: best.order };
}

/**
 * The content type of a GraphQL response for an `Accept` header, as Apollo negotiates it:
 * `application/graphql-response+json` when the client prefers it (Apollo Client 4 and urql ask for
 * it), `application/json` otherwise and when there is no header; null when the client accepts
 * neither (HTTP 406).
 */
export function responseContentType(accept: string | undefined): string | null {
  if (!accept?.trim()) return APPLICATION_JSON;
  const json = quality(accept, APPLICATION_JSON);
  const graphql = quality(accept, GRAPHQL_RESPONSE_JSON);
  if (json.q <= 0 && graphql.q <= 0) return null;
  if (graphql.q > json.q || (graphql.q === json.q && graphql.order < json.order)) return GRAPHQL_RESPONSE_JSON;
  return APPLICATION_JSON;
}

/** The GraphQL response body of errors that stopped a request, each with `extensions.requestId`. */
export function errorBody(errors: readonly (GraphQLError | GraphQLFormattedError)[], requestId: string): { errors: GraphQLFormattedError[] } {
  return {
    errors: errors.map((e) => {
      const { http: _http, stacktrace: _stack, ...extensions } = (e.extensions ?? {}) as Record<string, unknown>;
      return {
        message: e.message,
        ...(e.locations?.length ? { locations: e.locations } : {}),
        extensions: { ...extensions, requestId },
      };
    }),
  };
}

const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/**
 * A validation message without graphql-js's name suggestions ("Did you mean …?"), which tell a
 * caller the schema's names when introspection is not allowed for it.
 */
export function withoutSuggestions(message: string): string {
  return message.includes('Did you mean') ? message.replace(SUGGESTION, '') : message;
}
