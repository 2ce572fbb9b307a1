import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import type { Context } from '../context';

/**
 * Apollo plugins chosen for speed. Apollo installs its cache-control plugin unless told not to;
 * that plugin listens to `willResolveField`, which makes Apollo wrap every resolver of the schema
 * and call the hook for every field of every response (about 1,500 calls for one page of 20
 * investigations). Vigil sets no `@cacheControl` hints and answers with `cache-control: no-store`
 * semantics anyway (authenticated, per-viewer data), so the plugin only cost time.
 */
export function performancePlugins(): ApolloServerPlugin<Context>[] {
  return [ApolloServerPluginCacheControlDisabled()];
}
