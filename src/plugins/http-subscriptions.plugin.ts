import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Context } from '../context';
import { ErrorCode } from '../errors';

/**
 * Subscriptions are served by graphql-ws on the same path; Apollo only ever sees HTTP requests, so
 * a subscription reaching it is a client mistake and gets a 400 that says where to go, instead of
 * being executed as a query whose root field resolves to nothing.
 */
export function httpSubscriptionsPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError(
            'Subscriptions are served over websockets: connect to this path with the graphql-transport-ws protocol',
            { extensions: { code: ErrorCode.BAD_REQUEST, http: { status: 400 } } },
          );
        },
      };
    },
  };
}
