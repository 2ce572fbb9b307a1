import type { ApolloServerPlugin } from '@apollo/server';
import { requestMeta, type Context } from '../context';
import { ForbiddenError, type QueryTooComplexError } from '../errors';
import { Permission } from '../permissions/roles';
import { withHttp, rateLimited } from '../protection/http-errors';
import type { DocumentNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { analyzeOperation, checkOperationLimits, type OperationFigures, type OperationLimits } from '../protection/operation-analysis';
import type { RateLimiters } from '../protection/rate-limiters';
import type { SecurityEventRecorder } from '../protection/security-events';

export interface LimitsPluginOptions {
  limits: OperationLimits;
  limiters: RateLimiters;
  introspection: 'on' | 'off' | 'admin';
  record: SecurityEventRecorder;
}

/**
 * Operation limits before any resolver runs (the HTTP document guard has already enforced the
 * token count and the shape on the raw document): depth, aliases, root fields, directives and
 * cost of the resolved operation with its variables
 * (QUERY_TOO_COMPLEX, HTTP 400, with the figure and the limit in `extensions`), introspection for
 * ADMIN_ACCESS only when configured `admin` (FORBIDDEN, 403), and the caller's cost budget per
 * window (RATE_LIMITED, 429). Each refusal is a security event.
 */
export function limitsPlugin(options: LimitsPluginOptions): ApolloServerPlugin<Context> {
  const { limits, limiters, record } = options;
  // Documents are cached by Apollo, so a repeated request brings the same operation node: its
  // figures are kept with it (per set of variable values, which `first` arguments may depend on).
  const analyses = new WeakMap<OperationDefinitionNode, { variables: string; figures: OperationFigures }>();
  const analyze = (schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined) => {
    const key = operation.variableDefinitions?.length ? JSON.stringify(variables ?? {}) : '';
    const known = analyses.get(operation);
    if (known?.variables === key) return known.figures;
    const figures = analyzeOperation(schema, document, operation, variables, limits.defaultPageSize);
    analyses.set(operation, { variables: key, figures });
    return figures;
  };
  const reject = (ctx: Context, refusal: QueryTooComplexError): never => {
    const { code: _code, ...figure } = refusal.extensions;
    record(requestMeta(ctx), { action: 'QUERY_TOO_COMPLEX', reason: refusal.message, changes: figure });
    throw withHttp(refusal, 400, ctx.requestId);
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue: ctx, request, document, operation, schema }) {
          if (!operation) return;
          const figures = analyze(schema, document, operation, request.variables);
          if (figures.introspection && options.introspection === 'admin' && !ctx.viewer?.permissions.has(Permission.ADMIN_ACCESS)) {
            record(requestMeta(ctx), { action: 'INTROSPECTION_DENIED', reason: 'introspection is limited to ADMIN_ACCESS' });
            throw withHttp(new ForbiddenError('Introspection is limited to administrators; use the published schema.graphql'), 403, ctx.requestId);
          }
          const refusal = checkOperationLimits(figures, limits);
          if (refusal) reject(ctx, refusal);
          if (!limiters.enabled || figures.cost === 0) return;
          const who = ctx.viewer ? `user:${ctx.viewer.id}` : `ip:${ctx.ip}`;
          const decision = await limiters.costBudget.consume(who, figures.cost);
          if (!decision.allowed) {
            if (decision.firstRejection) {
              record(requestMeta(ctx), {
                action: 'COST_BUDGET_EXCEEDED',
                reason: `operation cost budget of ${decision.limit} per window spent`,
                changes: { cost: figures.cost, budget: decision.limit },
              });
            }
            const error = rateLimited(decision, ctx.requestId, 'The cost budget of this time window is spent, retry later');
            Object.assign(error.extensions, { cost: figures.cost, budget: decision.limit });
            throw error;
          }
        },
      };
    },
  };
}
