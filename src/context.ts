import { randomUUID } from 'node:crypto';
import type { Config } from './config';
import type { EntityManager, MikroORM } from './infra/db';
import type { Logger } from './infra/logger';
import type { VigilPubSub } from './infra/pubsub';
import { createLoaders, type Loaders } from './loaders';
import type { Permission, Role } from './permissions/roles';
import type { Services } from './services';

/** The signed-in user a request acts for. */
export interface Viewer {
  id: string;
  email: string;
  role: Role;
  sessionId: string;
  permissions: ReadonlySet<Permission>;
}

/** Everything a resolver may use; built in one place for HTTP requests and websocket operations. */
export interface Context {
  requestId: string;
  viewer: Viewer | null;
  ip: string;
  userAgent: string | null;
  em: EntityManager;
  loaders: Loaders;
  services: Services;
  pubsub: VigilPubSub;
  config: Config;
  logger: Logger;
}

/** What the server hands the context factory. */
export interface ContextDeps {
  orm: MikroORM;
  services: Services;
  pubsub: VigilPubSub;
  config: Config;
  logger: Logger;
}

/** Where a request came from, read from HTTP headers or websocket connection parameters. */
export interface RequestSource {
  requestId?: string;
  ip: string;
  userAgent?: string | null;
  /** The raw `Authorization` value (`Bearer …`), if any. */
  authorization?: string | null;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** A client-supplied request id when it is safe to log and echo, else a fresh one. */
export function requestIdFrom(header: unknown): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** Builds the context of one HTTP request or one websocket operation. */
export async function createContext(deps: ContextDeps, source: RequestSource): Promise<Context> {
  const em = deps.orm.em.fork();
  const requestId = source.requestId ?? randomUUID();
  return {
    requestId,
    viewer: null,
    ip: source.ip,
    userAgent: source.userAgent ?? null,
    em,
    loaders: createLoaders(em),
    services: deps.services,
    pubsub: deps.pubsub,
    config: deps.config,
    logger: deps.logger.child({ requestId }),
  };
}
