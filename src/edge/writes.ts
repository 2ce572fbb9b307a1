import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
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
import { refusal, type Refusal } from './errors';

/** The root field names of an operation, through inline fragments and named fragments (each expanded once). */
export function rootFieldNames(document: DocumentNode, operation: OperationDefinitionNode): string[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const names = new Set<string>();
  const seen = new Set<string>();
  const stack: SelectionSetNode[] = [operation.selectionSet];
  while (stack.length) {
    for (const s of stack.pop()!.selections) {
      if (s.kind === Kind.FIELD) names.add(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) stack.push(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const fragment = fragments.get(s.name.value);
        if (fragment) stack.push(fragment.selectionSet);
      }
    }
  }
  return [...names];
}

/** A maintenance refusal as the edge answers it: HTTP 503 with `Retry-After`. */
export function maintenanceRefusal(error: ServiceUnavailableError, requestId: string): Refusal {
  return refusal(error, 503, requestId, { 'retry-after': String(error.extensions.retryAfter ?? 30) });
}

function admitOrRefuse(gate: WriteGate, names: string[], requestId: string): (() => void) | Refusal {
  try {
    return gate.admit(names);
  } catch (error) {
    if (error instanceof ServiceUnavailableError) return maintenanceRefusal(error, requestId);
    throw error;
  }
}

/**
 * The writes this instance runs, counted for maintenance (see `WriteGate`), over HTTP: a mutation
 * that passed the gate is admitted — and counted in flight until its response is sent — in the
 * same synchronous step that checks maintenance, so once an instance applies maintenance no
 * mutation starts and the ones already admitted are waited for. The gate's operation stage has
 * already refused mutations during maintenance; this refuses one caught by maintenance between
 * the gate and execution.
 */
export function writeAccountingPlugin(gate: WriteGate): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      let release: (() => void) | undefined;
      return {
        async didResolveOperation({ contextValue: ctx, document, operation }) {
          if (operation?.operation !== 'mutation') return;
          const admitted = admitOrRefuse(gate, rootFieldNames(document, operation), ctx.requestId);
          if (typeof admitted === 'function') {
            release = admitted;
            return;
          }
          const { error, status, headers } = admitted;
          (error.extensions as Record<string, unknown>).http = { status, headers: new HeaderMap(Object.entries(headers)) };
          throw error;
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
 * The same accounting over websockets, as graphql-ws's `execute`: a mutation is admitted when it
 * starts executing and counted until it finished; queries and subscriptions pass untouched.
 */
export function writeAccountingExecute(gate: WriteGate, execute: typeof graphqlExecute = graphqlExecute) {
  return async (args: ExecutionArgs): Promise<ExecutionResult> => {
    const operation = getOperationAST(args.document, args.operationName);
    if (operation?.operation !== 'mutation') return execute(args);
    const requestId = (args.contextValue as Partial<Context> | undefined)?.requestId ?? '';
    const admitted = admitOrRefuse(gate, rootFieldNames(args.document, operation), requestId);
    if (typeof admitted !== 'function') return { errors: [admitted.error] };
    try {
      return await execute(args);
    } finally {
      admitted();
    }
  };
}
