import type { RequestMeta, Viewer } from '../context';

/** Who sends a request and over what, as every transport describes it to the gate. */
export interface Caller {
  requestId: string;
  ip: string;
  userAgent: string | null;
  /** The signed-in user; null when anonymous or when the token sent was not valid. */
  viewer: Viewer | null;
  transport: 'http' | 'websocket';
}

/** The GraphQL parameters of a request, whatever carried them. */
export interface GraphQLParams {
  query?: string;
  operationName?: string | null;
  /** As received: checked by the document stage before anything else walks them. */
  variables?: unknown;
  /** The sha256 of a persisted document (`extensions.persistedQuery.sha256Hash` or `documentId`). */
  hash?: string;
}

/** The caller as the audit trail records it. */
export function callerMeta(caller: Caller, operationName: string | null = null): RequestMeta {
  const v = caller.viewer;
  return {
    requestId: caller.requestId,
    ip: caller.ip,
    userAgent: caller.userAgent,
    operationName,
    actor: v ? { id: v.id, email: v.email, role: v.role } : null,
    sessionId: v?.sessionId ?? null,
  };
}
