import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { execute, getVariableValues, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';

/** How often a document runs through graphql-js before it is compiled (compiling costs more than one run). */
const COMPILE_AFTER = 2;

interface Entry {
  /** Runs seen so far (until compiled). */
  seen: number;
  compiled?: CompiledQuery;
}

export interface CompiledExecutorOptions {
  /** Operations kept compiled (least recently used are dropped); 0 runs everything through graphql-js. */
  maxOperations: number;
}

/**
 * Executes operations with graphql-jit: an operation sent again (the usual case: clients send the
 * same documents, trusted documents are a fixed set) is compiled once into a function that
 * resolves its fields without graphql-js's per-field interpretation (argument coercion, type
 * lookups, path bookkeeping). On a page of 20 investigations with their findings that is about
 * 1,500 fields per response (bench/README.md). The first runs of a document go through graphql-js,
 * and so does anything graphql-jit will not compile. Resolvers, the permission middleware and
 * error handling are the schema's own either way.
 *
 * Apollo Server 5 takes a custom executor only through its gateway interface; this is that
 * interface over a fixed schema.
 */
export function compiledExecutor(schema: GraphQLSchema, options: CompiledExecutorOptions): GatewayInterface {
  const cache = options.maxOperations > 0 ? new LRUCache<string, Entry>({ max: options.maxOperations }) : undefined;

  const compiledFor = (key: string, document: DocumentNode, operationName: string | undefined): CompiledQuery | undefined => {
    if (!cache) return undefined;
    let entry = cache.get(key);
    if (!entry) {
      entry = { seen: 0 };
      cache.set(key, entry);
    }
    if (entry.compiled) return entry.compiled;
    entry.seen += 1;
    if (entry.seen < COMPILE_AFTER) return undefined;
    let compiled: CompiledQuery | ExecutionResult;
    try {
      compiled = compileQuery(schema, document, operationName);
    } catch {
      compiled = { errors: [] };
    }
    if (!isCompiledQuery(compiled)) {
      // Not compilable: keep running it through graphql-js, which reports any error itself.
      entry.seen = Number.NEGATIVE_INFINITY;
      return undefined;
    }
    entry.compiled = compiled;
    return compiled;
  };

  const executor: GatewayExecutor = async (requestContext) => {
    const { document, operationName, queryHash, context } = requestContext;
    const variables = requestContext.request.variables ?? {};
    const compiled = compiledFor(`${queryHash}:${operationName ?? ''}`, document, operationName ?? undefined);
    if (compiled) {
      // Variables are checked by graphql-js first: its errors name the variable's node, which is
      // what makes Apollo answer BAD_USER_INPUT (graphql-jit words and shapes them differently).
      const definitions = requestContext.operation.variableDefinitions;
      if (definitions?.length) {
        const coerced = getVariableValues(schema, definitions, variables);
        if (coerced.errors) return { errors: coerced.errors };
      }
      return (await compiled.query(undefined, context, variables)) as ExecutionResult;
    }
    return execute({ schema, document, contextValue: context, variableValues: variables, operationName }) as Promise<ExecutionResult> | ExecutionResult;
  };

  return {
    async load() {
      return { schema, executor };
    },
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async stop() {
      cache?.clear();
    },
  };
}
