import { createClient, type Client, type ClientOptions } from 'graphql-ws';

/** A GraphQL error as the gateway sends it. */
export interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; requestId?: string; [key: string]: unknown };
}

/** The body of a GraphQL response. */
export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: GraphQLErrorBody[];
}

/** Raised when the gateway answers a request with errors and no usable data. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** The GraphQL endpoint's path, handed to the page by the gateway in `data-graphql-path`. */
export function graphqlPath(): string {
  return document.body.dataset.graphqlPath || '/graphql';
}

/** Absolute HTTP URL of the GraphQL endpoint on this gateway. */
export function graphqlHttpUrl(): string {
  return new URL(graphqlPath(), window.location.href).toString();
}

/** Absolute websocket URL of the GraphQL endpoint on this gateway (ws: or wss: as the page). */
export function graphqlWsUrl(): string {
  const url = new URL(graphqlPath(), window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** `Authorization` header value for an access token, or undefined when signed out. */
export function bearer(token: string | null): string | undefined {
  return token ? `Bearer ${token}` : undefined;
}

/** Sends one operation over HTTP and returns the whole response (data and errors). */
export async function request<T>(
  query: string,
  variables: Record<string, unknown> = {},
  token: string | null = null,
): Promise<GraphQLResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  const authorization = bearer(token);
  if (authorization) headers.authorization = authorization;
  const res = await fetch(graphqlHttpUrl(), { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const type = res.headers.get('content-type') ?? '';
  if (!type.includes('json')) throw new ApiError(`the gateway answered ${res.status} ${res.statusText}`, undefined);
  return (await res.json()) as GraphQLResponse<T>;
}

/** Like {@link request}, but throws an {@link ApiError} carrying the first error's code when there is one. */
export async function requestData<T>(query: string, variables: Record<string, unknown> = {}, token: string | null = null): Promise<T> {
  const res = await request<T>(query, variables, token);
  const first = res.errors?.[0];
  if (first) throw new ApiError(first.message, first.extensions?.code);
  if (!res.data) throw new ApiError('the gateway returned no data', undefined);
  return res.data;
}

/** A graphql-ws client for this gateway, sending the token in `connection_init` as the API expects. */
export function createWsClient(token: string | null, options: Partial<ClientOptions> = {}): Client {
  return createClient({
    url: graphqlWsUrl(),
    connectionParams: () => {
      const authorization = bearer(token);
      return authorization ? { authorization } : {};
    },
    ...options,
  });
}
