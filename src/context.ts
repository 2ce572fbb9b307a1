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
  /** When the session ends at the latest (its absolute lifetime); websockets are closed then. */
  sessionExpiresAt?: Date;
  /**
   * The role requires a second factor and the user has none yet: the session may only enrol one
   * (`enrollMfa`, `confirmMfa…`), read `me`, `myPermissions`, `mySessions` and `health`, and sign
   * out; `permissions` is empty until the enrolment is confirmed.
   */
  mfaEnrollmentRequired?: boolean;
  /** Whether the user has a second factor (read with the session). */
  mfaEnabled?: boolean;
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
  /** The operation's name once Apollo has resolved it (for logs and the audit trail). */
  operationName: string | null;
  /** Websocket operations only: closes the connection this operation runs on. */
  closeConnection?: (code: number, reason: string) => void;
}

/** Who did something, as the audit trail records it; null means the system itself. */
export interface Actor {
  id: string;
  email: string;
  role: Role;
}

/**
 * What services need to know about the request they serve (for audit entries and security
 * events), without seeing GraphQL or HTTP objects.
 */
export interface RequestMeta {
  requestId: string;
  ip: string;
  userAgent: string | null;
  operationName: string | null;
  actor: Actor | null;
  sessionId: string | null;
}

/** The request's metadata for services. */
export function requestMeta(ctx: Context): RequestMeta {
  const v = ctx.viewer;
  return {
    requestId: ctx.requestId,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
    operationName: ctx.operationName,
    actor: v ? { id: v.id, email: v.email, role: v.role } : null,
    sessionId: v?.sessionId ?? null,
  };
}

/** Metadata for work the system does on its own (schedules, monitors). */
export function systemMeta(operationName: string): RequestMeta {
  return { requestId: randomUUID(), ip: '127.0.0.1', userAgent: null, operationName, actor: null, sessionId: null };
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
  /** The viewer, when the edge has already authenticated the request (then `authorization` is not read again). */
  viewer?: Viewer | null;
  /**
   * A websocket operation: the connection was authenticated at `connection_init`, so an access
   * token that expired since still identifies its session (which is checked as usual).
   */
  websocket?: boolean;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** A client-supplied request id when it is safe to log and echo, else a fresh one. */
export function requestIdFrom(header: unknown): string {
  return typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
}

/** The parts of a context made on first use, shared by the copies Apollo makes of it. */
interface LazyParts {
  deps: ContextDeps;
  requestId: string;
  em?: EntityManager;
  logger?: Logger;
}

/**
 * A request's context. The EntityManager fork and the child logger are made on first use: a read
 * served by the read model (see read-model.ts) needs neither, and forking an EntityManager
 * (identity map, unit of work) for every request was a measurable share of its allocations. The
 * getters live on this class's prototype, shared by every context (property access on contexts
 * stays monomorphic), and read an own `lazy` object, which Apollo's per-operation copy of the
 * context carries along (it copies own properties onto an object of the same prototype).
 */
class RequestContext implements Context {
  viewer: Viewer | null = null;
  ip = '';
  userAgent: string | null = null;
  loaders!: Loaders;
  services!: Services;
  pubsub!: VigilPubSub;
  config!: Config;
  operationName: string | null = null;
  closeConnection?: (code: number, reason: string) => void;

  constructor(
    readonly requestId: string,
    private readonly lazy: LazyParts,
  ) {}

  get em(): EntityManager {
    return (this.lazy.em ??= this.lazy.deps.orm.em.fork());
  }

  set em(value: EntityManager) {
    this.lazy.em = value;
  }

  get logger(): Logger {
    return (this.lazy.logger ??= this.lazy.deps.logger.child({ requestId: this.lazy.requestId }));
  }

  set logger(value: Logger) {
    this.lazy.logger = value;
  }
}

/** Builds the context of one HTTP request or one websocket operation. */
export async function createContext(deps: ContextDeps, source: RequestSource): Promise<Context> {
  const requestId = source.requestId ?? randomUUID();
  const lazy: LazyParts = { deps, requestId };
  const context = new RequestContext(requestId, lazy);
  context.viewer =
    source.viewer !== undefined ? source.viewer : await deps.services.auth.authenticate(source.authorization, { websocket: source.websocket });
  context.ip = source.ip;
  context.userAgent = source.userAgent ?? null;
  context.loaders = createLoaders(() => context.em);
  context.services = deps.services;
  context.pubsub = deps.pubsub;
  context.config = deps.config;
  return context;
}
