import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import type { Context } from '../context';
import { ErrorCode } from '../errors';
import type { Logger } from '../infra/logger';
import { redactVariables } from './redact-variables';

/**
 * One JSON line per GraphQL operation over HTTP: time, level, requestId, userId, operationName,
 * operationType, durationMs, outcome (`ok`, or the error codes) and the variables, with every value
 * bound to an argument or input field marked `@sensitive` replaced, whatever the variable is called
 * (`redactVariables`); variables of a document that did not parse are not logged at all.
 */
export function loggingPlugin(logger: Logger, schema: GraphQLSchema): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ request }) {
      if (!logger.isLevelEnabled('info')) return {};
      const started = performance.now();
      let operationType: string | null = null;
      return {
        async didResolveOperation({ operation }) {
          operationType = operation?.operation ?? null;
        },
        async willSendResponse({ response, contextValue: ctx, operationName, document }) {
          const body = response.body;
          const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
          const codes = [...new Set((errors ?? []).map((e) => String(e.extensions?.code ?? ErrorCode.INTERNAL_SERVER_ERROR)))];
          const internal = codes.includes(ErrorCode.INTERNAL_SERVER_ERROR);
          const entry = {
            requestId: ctx.requestId,
            userId: ctx.viewer?.id ?? null,
            operationName: operationName ?? request.operationName ?? null,
            operationType,
            durationMs: Math.round((performance.now() - started) * 100) / 100,
            outcome: codes.length ? codes.join(',') : 'ok',
            variables: request.variables ? redactVariables(schema, document, request.variables) : undefined,
          };
          if (internal) logger.error(entry, 'graphql operation failed');
          else logger.info(entry, 'graphql operation');
        },
      };
    },
  };
}
