import type { ApolloServerPlugin } from '@apollo/server';
import {
  execute as graphqlExecute,
  getOperationAST,
  Kind,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Context } from '../context';
import { ServiceUnavailableError } from '../errors';
import type { WriteGate } from '../services/settings/write-gate';
import { withHttp } from './http-errors';

/** The root field names of an operation, through fragment spreads and inline fragments. */
export function rootFieldNames(document: DocumentNode, operation: OperationDefinitionNode): Set<string> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const names = new Set<string>();
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) names.add(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const fragment = fragments.get(s.name.value);
        if (fragment) walk(fragment.selectionSet);
      }
    }
  };
  walk(operation.selectionSet);
  return names;
}

function refusal(error: unknown, requestId: string): ServiceUnavailableError {
  if (!(error instanceof ServiceUnavailableError)) throw error;
  const retryAfter = Number(error.extensions.retryAfter ?? 30);
  return withHttp(error, 503, requestId, { 'retry-after': String(retryAfter) });
}

/**
 * Maintenance mode over HTTP: a mutation is admitted through the write gate once its operation is
 * resolved (SERVICE_UNAVAILABLE, HTTP 503 with `Retry-After`, while maintenance is on and a root
 * field is not exempt) and counted in flight until its response is sent.
 */
export function maintenancePlugin(gate: WriteGate): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      let release: (() => void) | undefined;
      return {
        async didResolveOperation({ contextValue: ctx, document, operation }) {
          if (operation?.operation !== 'mutation') return;
          try {
            release = gate.admit(rootFieldNames(document, operation));
          } catch (error) {
            throw refusal(error, ctx.requestId);
          }
        },
        async willSendResponse() {
          release?.();
          release = undefined;
        },
      };
    },
  };
}

/**
 * Maintenance mode over websockets: graphql-ws's `execute`, admitting each mutation through the
 * write gate (an error result with SERVICE_UNAVAILABLE while maintenance is on) and counting it in
 * flight until it has finished. Subscriptions and queries pass untouched.
 */
export function gatedExecute(gate: WriteGate, execute: (args: ExecutionArgs) => ReturnType<typeof graphqlExecute> = graphqlExecute) {
  return async (args: ExecutionArgs): Promise<ExecutionResult> => {
    const operation = getOperationAST(args.document, args.operationName);
    if (operation?.operation !== 'mutation') return execute(args);
    let release: () => void;
    try {
      release = gate.admit(rootFieldNames(args.document, operation));
    } catch (error) {
      const requestId = (args.contextValue as Partial<Context> | undefined)?.requestId ?? '';
      return { errors: [refusal(error, requestId)] };
    }
    try {
      return await execute(args);
    } finally {
      release();
    }
  };
}
