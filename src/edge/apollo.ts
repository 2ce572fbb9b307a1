import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import type { Context } from '../context';
import { ErrorCode } from '../errors';
import { withoutSuggestions } from './errors';
import type { Gate } from './gate';
import type { Caller } from './request';

/** Codes of errors whose messages graphql-js may fill with schema names. */
const SUGGESTING_CODES = new Set<unknown>([ErrorCode.GRAPHQL_VALIDATION_FAILED, ErrorCode.BAD_USER_INPUT]);

function callerOfContext(ctx: Context): Caller {
  return { requestId: ctx.requestId, ip: ctx.ip, userAgent: ctx.userAgent, viewer: ctx.viewer, transport: 'http' };
}

/**
 * The Apollo adapter of the edge: the gate's operation stage once Apollo has parsed, validated and
 * resolved the operation (a refusal leaves with its HTTP status and headers, before any resolver
 * runs), and no "Did you mean …?" in error messages for callers not allowed to introspect.
 */
export function edgePlugin(gate: Gate): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, request, document, operation }) {
          if (!operation) return;
          const verdict = await gate.admitOperation(callerOfContext(contextValue), document, operation, request.variables);
          if (verdict.ok) return;
          const { error, status, headers } = verdict.refusal;
          (error.extensions as Record<string, unknown>).http = { status, headers: new HeaderMap(Object.entries(headers)) };
          throw error;
        },
        async willSendResponse({ response, contextValue }) {
          const body = response.body;
          const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
          if (!errors?.length || gate.introspectionAllowed(callerOfContext(contextValue))) return;
          for (const error of errors) {
            if (SUGGESTING_CODES.has(error.extensions?.code)) (error as { message: string }).message = withoutSuggestions(error.message);
          }
        },
      };
    },
  };
}
