import 'reflect-metadata';
import { buildSchema, getOperationAST, parse } from 'graphql';
import { analyzeOperation, checkOperationLimits, countTokens } from '../../src/protection/operation-analysis';
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

function figures(query: string, variables?: Record<string, unknown>) {
  const doc = parse(query);
  return analyzeOperation(schema, doc, getOperationAST(doc)!, variables, 20);
}

describe('operation analysis', () => {
  it('multiplies what a connection selects by its first argument, literal or variable, and 20 without it', () => {
    expect(figures('{ items(first: 10) { edges { node { id } } } }').cost).toBe(1 + 10 * (1 + (1 + 1)));
    expect(figures('query($n: Int) { items(first: $n) { totalCount } }', { n: 7 }).cost).toBe(1 + 7);
    expect(figures('{ items { totalCount } }').cost).toBe(1 + 20);
    expect(figures('{ tags { name } }').cost).toBe(1 + 20);
  });

  it('multiplies nested connections', () => {
    const f = figures('{ items(first: 100) { edges { node { children(first: 100) { totalCount } } } } }');
    expect(f.cost).toBe(1 + 100 * (1 + (1 + (1 + 100))));
    expect(checkOperationLimits(f, LIMITS)?.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', cost: f.cost, limit: 500 });
  });

  it('measures depth, aliases, root fields and directives, through fragments', () => {
    const f = figures(`
      query Q @a { a: health { status } b: health { ...S } items(first: 1) { edges { node { children(first: 1) { edges { node { id } } } } } } }
      fragment S on Health { c: status @skip(if: false) }
    `);
    expect(f).toEqual(expect.objectContaining({ depth: 7, aliases: 3, rootFields: 3, directives: 2 }));
    expect(checkOperationLimits(f, LIMITS)?.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', depth: 7, limit: 5 });
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

  it('counts tokens and stops past the limit', () => {
    expect(countTokens('{ health { status } }', 100)).toBe(6);
    expect(countTokens(`{ ${'a '.repeat(10_000)} }`, 50)).toBe(51);
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
