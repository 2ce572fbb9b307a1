import { buildSchema, graphql } from 'graphql';
import { applyResolverTimeout } from '../../src/protection/resolver-timeout';

describe('applyResolverTimeout', () => {
  const build = () =>
    buildSchema(`
      type Query { slow: String fast: String plain: String }
      type Mutation { slow: String }
    `);
  const never = () => new Promise<string>(() => undefined);
  const rootValue = { slow: never, fast: () => Promise.resolve('fast'), plain: 'plain' };

  it('answers a Query field that runs out of time with SERVICE_UNAVAILABLE on its path and keeps the rest', async () => {
    const schema = build();
    const fields = schema.getQueryType()!.getFields();
    fields.slow!.resolve = never;
    fields.fast!.resolve = () => Promise.resolve('fast');
    applyResolverTimeout(schema, 20);
    const result = await graphql({ schema, source: '{ slow fast plain }', rootValue });
    expect(result.data).toEqual({ slow: null, fast: 'fast', plain: 'plain' });
    expect(result.errors?.map((e) => [e.path, e.extensions.code])).toEqual([[['slow'], 'SERVICE_UNAVAILABLE']]);
  });

  it('leaves mutations and a zero setting alone', () => {
    const schema = build();
    applyResolverTimeout(schema, 0);
    expect(schema.getQueryType()!.getFields().slow!.resolve).toBeUndefined();
    applyResolverTimeout(schema, 20);
    expect(schema.getMutationType()!.getFields().slow!.resolve).toBeUndefined();
  });
});
