import type { ApolloServerPlugin } from '@apollo/server';
import type { Context } from '../context';

/**
 * Records the operation name on the context and stamps `extensions.requestId` on every error so a
 * report can be matched to the logs.
 */
export function requestIdPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operationName, contextValue }) {
          contextValue.operationName = operationName ?? null;
        },
        async willSendResponse({ response, contextValue }) {
          const body = response.body;
          const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
          if (!errors) return;
          for (const error of errors) {
            (error as { extensions?: Record<string, unknown> }).extensions = {
              ...error.extensions,
              requestId: contextValue.requestId,
            };
          }
        },
      };
    },
  };
}
