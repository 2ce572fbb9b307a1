import 'reflect-metadata';
import { buildSchema, getIntrospectionQuery, getOperationAST, getVariableValues, parse } from 'graphql';
import { checkDocumentShape, countTokens, measureOperation } from '../../src/edge/analysis';
import { buildManifest, canonicalHash, documentHash, lookUpTrustedDocument } from '../../src/protection/trusted-documents';

const schema = buildSchema(`
  type Query { health: Health! items(first: Int, after: String): ItemConnection! tags: [Tag!]! }
  type Health { status: String! }
  type ItemConnection { edges: [ItemEdge!]! totalCount: Int! }
  type ItemEdge { cursor: String! node: Item! }
  type Item { id: ID! children(first: Int): ItemConnection! }
  type Tag { name: String! }
`);

const LIMITS = { maxDepth: 5, maxAliases: 2, maxRootFields: 3, maxDirectives: 2, maxTokens: 100, maxCost: 500, defaultPageSize: 20 };
const OPEN = { maxDepth: 1000, maxAliases: 1e9, maxRootFields: 1e9, maxDirectives: 1e9, maxTokens: 1e9, maxCost: Number.POSITIVE_INFINITY, defaultPageSize: 20 };

function figures(query: string, variables: Record<string, unknown> = {}) {
  const doc = parse(query);
  return measureOperation(schema, doc, getOperationAST(doc)!, OPEN, variables).figures;
}

function exceeded(query: string, variables: Record<string, unknown> = {}) {
  const doc = parse(query);
  return measureOperation(schema, doc, getOperationAST(doc)!, LIMITS, variables).exceeded?.extensions;
}

describe('operation analysis', () => {
  it('multiplies what a connection selects by its first argument, literal or variable, and 20 without it', () => {
    expect(figures('{ items(first: 10) { edges { node { id } } } }').cost).toBe(1 + 10 * (1 + (1 + 1)));
    expect(figures('query($n: Int) { items(first: $n) { totalCount } }', { n: 7 }).cost).toBe(1 + 7);
    expect(figures('{ items { totalCount } }').cost).toBe(1 + 20);
    expect(figures('{ tags { name } }').cost).toBe(1 + 20);
  });

  it('multiplies nested connections', () => {
    const query = '{ items(first: 100) { edges { node { children(first: 100) { totalCount } } } } }';
    expect(figures(query).cost).toBe(1 + 100 * (1 + (1 + (1 + 100))));
    expect(exceeded(query)).toEqual({ code: 'QUERY_TOO_COMPLEX', cost: expect.any(Number), limit: 500 });
    expect(exceeded(query)!.cost).toBeGreaterThan(500);
  });

  it('measures depth, aliases, root fields and directives, through fragments', () => {
    const f = figures(`
      query Q @a { a: health { status } b: health { ...S } items(first: 1) { edges { node { children(first: 1) { edges { node { id } } } } } } }
      fragment S on Health { c: status @skip(if: false) }
    `);
    expect(f).toEqual(expect.objectContaining({ depth: 7, aliases: 3, rootFields: 3, directives: 2 }));
    expect(exceeded(`{ health { ...D } } fragment D on Health { ${'a { '.repeat(10)}b${' }'.repeat(10)} }`)).toEqual({
      code: 'QUERY_TOO_COMPLEX',
      depth: 6,
      limit: 5,
    });
  });

  it('measures unknown fields too (before validation) and survives fragment cycles', () => {
    const deep = `{ health { ${'a { '.repeat(30)}b${' }'.repeat(30)} } }`;
    expect(figures(deep).depth).toBe(32);
    const cyclic = figures('{ health { ...A } } fragment A on Health { ...B } fragment B on Health { ...A }');
    expect(cyclic.depth).toBe(1);
  });

  it('ignores introspection subtrees but reports them', () => {
    const f = figures('{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }');
    expect(f).toEqual(expect.objectContaining({ depth: 0, cost: 0, introspection: true }));
  });

  it("admits the IDE's full introspection query, whose TypeRef fragments nest deeper than the depth limit", () => {
    const doc = parse(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, schemaDescription: true, specifiedByUrl: true, directiveIsRepeatable: true }));
    const tight = { ...LIMITS, maxAliases: 1e9, maxDirectives: 1e9, maxRootFields: 1e9 };
    const measured = measureOperation(schema, doc, getOperationAST(doc)!, tight, {});
    expect(measured.exceeded).toBeNull();
    expect(measured.figures).toEqual(expect.objectContaining({ depth: 0, cost: 0, introspection: true }));
    expect(checkDocumentShape(schema, doc, tight)).toBeNull();
    expect(exceeded('{ items { ...Deep } } fragment Deep on ItemConnection { edges { node { children { edges { node { id } } } } } }')).toEqual(
      expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', depth: 6 }),
    );
  });

  it('counts tokens and stops past the limit', () => {
    expect(countTokens('{ health { status } }', 100)).toBe(6);
    expect(countTokens(`{ ${'a '.repeat(10_000)} }`, 50)).toBe(51);
  });
});

describe('operation analysis against hostile fragments', () => {
  /** `query { ...Fn }` where each fragment spreads the previous one twice: 2^n paths. */
  const chain = (n: number, leaf = '__typename') => {
    const fragments = [`fragment F0 on Query { ${leaf} }`];
    for (let i = 1; i <= n; i++) fragments.push(`fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }`);
    return parse(`query { ...F${n} } ${fragments.join(' ')}`);
  };
  const limits = { ...LIMITS, maxRootFields: 15, maxTokens: 1e6 };

  it('counts the root fields of a doubling chain exactly and refuses it, without walking its paths', () => {
    const doc = parse(`query { ...F20 } ${['fragment F0 on Query { health { status } }', ...Array.from({ length: 20 }, (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`)].join(' ')}`);
    expect(measureOperation(schema, doc, getOperationAST(doc)!, OPEN, {}).figures.rootFields).toBe(2 ** 20);
    // Past the limit the count saturates: "at least 16".
    expect(checkDocumentShape(schema, doc, limits)?.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', rootFields: 16, limit: 15 });
  });

  it('takes time growing at most linearly with the chain length (10, 20, 40 levels)', () => {
    const docs = new Map([10, 20, 40].map((n) => [n, chain(n, 'health { status } items { totalCount }')] as const));
    const once = (n: number, runs: number) => {
      const doc = docs.get(n)!;
      const operation = getOperationAST(doc)!;
      const started = process.hrtime.bigint();
      for (let i = 0; i < runs; i++) {
        checkDocumentShape(schema, doc, limits);
        measureOperation(schema, doc, operation, { ...OPEN, maxCost: 1e8 }, {});
      }
      return Number(process.hrtime.bigint() - started);
    };
    // Compiled by the JIT first; then the best of several interleaved trials: a pause of the
    // machine or the collector lengthens a trial, never shortens one.
    for (const n of [40, 20, 10]) once(n, 1000);
    const best = new Map<number, number>();
    for (let trial = 0; trial < 21; trial++) {
      for (const n of [10, 20, 40]) best.set(n, Math.min(best.get(n) ?? Number.POSITIVE_INFINITY, once(n, 100)));
    }
    const [t10, t20, t40] = [best.get(10)!, best.get(20)!, best.get(40)!];
    // Linear: doubling the levels at most doubles the work (3× leaves room for noise); the
    // exponential walk made each level double it.
    expect(t40 / t20).toBeLessThan(3);
    expect(t20 / t10).toBeLessThan(3);
  });

  it('stops at the first exceeded limit inside fragments (aliases, directives, cost)', () => {
    expect(exceeded('{ ...A } fragment A on Query { x: health { status } y: health { status } z: health { status } }')).toEqual({
      code: 'QUERY_TOO_COMPLEX',
      aliases: 3,
      limit: 2,
    });
    expect(exceeded('{ health @a @b @c { status } }')).toEqual({ code: 'QUERY_TOO_COMPLEX', directives: 3, limit: 2 });
  });

  it('measures every operation of a document (validation reads them all)', () => {
    const doc = parse(`query A { health { status } } query B { ${'health { status } '.repeat(5)} }`);
    expect(checkDocumentShape(schema, doc, LIMITS)?.extensions).toEqual(expect.objectContaining({ code: 'QUERY_TOO_COMPLEX' }));
  });
});

describe('cost on coerced variables', () => {
  it('counts variable defaults (coerced) and never below one item per page', () => {
    const doc = parse('query($a: Int = 100) { items(first: $a) { totalCount } }');
    const coerced = getVariableValues(schema, getOperationAST(doc)!.variableDefinitions!, {});
    expect(coerced.coerced).toEqual({ a: 100 });
    expect(measureOperation(schema, doc, getOperationAST(doc)!, OPEN, coerced.coerced!).figures.cost).toBe(1 + 100);
    expect(figures('{ items(first: 0) { edges { node { id } } } }').cost).toBe(1 + 1 * (1 + (1 + 1)));
  });
});

describe('trusted documents', () => {
  const source = `
    query Health { health { ...HealthFields } }
    fragment HealthFields on Health { status }
    mutation Nope { x }
  `;
  const manifest = buildManifest([source]);

  it('registers every operation with the fragments it uses, keyed by the sha256 of its text', () => {
    expect(Object.keys(manifest)).toHaveLength(2);
    for (const [hash, text] of Object.entries(manifest)) expect(documentHash(text)).toBe(hash);
  });

  it('accepts a registered id or text (in any print order) and refuses the rest', () => {
    const [hash, text] = Object.entries(manifest).find(([, t]) => t.includes('query Health'))!;
    expect(lookUpTrustedDocument(manifest, { hash })).toEqual({ ok: true, query: text });
    expect(lookUpTrustedDocument(manifest, { query: text }).ok).toBe(true);
    const reordered = 'fragment HealthFields on Health { status }\nquery Health { health { ...HealthFields } }';
    expect(canonicalHash(reordered)).toBe(hash);
    expect(lookUpTrustedDocument(manifest, { query: reordered }).ok).toBe(true);
    const unknown = lookUpTrustedDocument(manifest, { hash: 'f'.repeat(64) });
    expect(unknown.ok || unknown.error.extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const other = lookUpTrustedDocument(manifest, { query: '{ health { status } }' });
    expect(other.ok || other.error.extensions.code).toBe('FORBIDDEN');
  });
});
