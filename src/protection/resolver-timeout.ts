import { defaultFieldResolver, type GraphQLSchema } from 'graphql';
import { ServiceUnavailableError } from '../errors';

/** The error a Query field answers with when it runs out of time. */
export class ResolverTimeoutError extends ServiceUnavailableError {
  constructor(readonly field: string, readonly timeoutMs: number) {
    super(`${field} did not finish within ${timeoutMs} ms`);
  }
}

/**
 * Bounds every Query root field of `schema` (in place) to `timeoutMs`: a slower one answers
 * SERVICE_UNAVAILABLE on its path while the rest of the response is sent. Mutations are not
 * bounded: abandoning the answer while the change may still commit would mislead the client;
 * they are bounded by their own transactions and statement timeouts. 0 turns the bound off.
 */
export function applyResolverTimeout(schema: GraphQLSchema, timeoutMs: number): void {
  if (timeoutMs <= 0) return;
  const query = schema.getQueryType();
  if (!query) return;
  for (const field of Object.values(query.getFields())) {
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = (source, args, context, info) => {
      const result = resolve(source, args, context, info);
      if (!result || typeof (result as PromiseLike<unknown>).then !== 'function') return result;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ResolverTimeoutError(`Query.${field.name}`, timeoutMs)), timeoutMs);
        timer.unref();
      });
      return Promise.race([Promise.resolve(result), timeout]).finally(() => clearTimeout(timer));
    };
  }
}
