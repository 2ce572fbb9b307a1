import type { ApolloServerPlugin } from '@apollo/server';
import type { Context } from '../context';
import { ErrorCode } from '../errors';
import type { VigilMetrics } from '../infra/metrics';

/** Operation names are chosen by clients: past this many distinct ones, new names count as `other`. */
const MAX_OPERATION_NAMES = 200;
const MAX_NAME_LENGTH = 64;

/**
 * Times every GraphQL operation over HTTP (`vigil_graphql_operation_duration_seconds` by
 * operation name and type) and counts the errors sent by `extensions.code`. Names come only from
 * operations that resolved against the schema, and their number is capped, so a client cannot
 * blow up the label cardinality.
 */
export function metricsPlugin(metrics: VigilMetrics): ApolloServerPlugin<Context> {
  const knownNames = new Set<string>();
  const labelFor = (name: string | null | undefined): string => {
    if (!name) return 'anonymous';
    const trimmed = name.slice(0, MAX_NAME_LENGTH);
    if (knownNames.has(trimmed)) return trimmed;
    if (knownNames.size >= MAX_OPERATION_NAMES) return 'other';
    knownNames.add(trimmed);
    return trimmed;
  };
  return {
    async requestDidStart() {
      const started = performance.now();
      let operationName = 'unknown';
      let operationType = 'unknown';
      return {
        async didResolveOperation({ operation, operationName: name }) {
          operationType = operation?.operation ?? 'unknown';
          operationName = labelFor(name);
        },
        async willSendResponse({ response }) {
          const body = response.body;
          const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
          for (const error of errors ?? []) {
            metrics.graphqlErrors.inc({ code: String(error.extensions?.code ?? ErrorCode.INTERNAL_SERVER_ERROR) });
          }
          metrics.graphqlOperationDuration.observe(
            { operation_name: operationName, operation_type: operationType, outcome: errors?.length ? 'error' : 'ok' },
            (performance.now() - started) / 1000,
          );
        },
      };
    },
  };
}
