import { parse, type FragmentDefinitionNode, type OperationDefinitionNode, type FieldNode } from 'graphql';
import { pgTime } from '../../src/infra/read-model';
import { isoString } from '../../src/schema/scalars';
import { selectedFieldNodes, selectedFields } from '../../src/schema/selection';

describe('pgTime', () => {
  /** What the general path (ECMAScript date parsing) makes of PostgreSQL's text. */
  const viaDateParsing = (text: string) => {
    const iso = text.replace(' ', 'T');
    return new Date(/[+-]\d\d$/.test(iso) ? `${iso}:00` : iso);
  };

  it.each([
    '2026-09-03 13:47:49.083+00',
    '2026-09-03 13:47:49+00',
    '2026-09-03 13:47:49.083123+00',
    '2026-09-03 13:47:49.1+00',
    '2026-12-31 23:59:59.999999+00',
    '2026-09-03 13:47:49.083+05:30',
    '0999-01-01 00:00:00+00',
    '0050-06-01 12:00:00+00',
  ])('reads %s as the same instant as date parsing does', (text) => {
    expect(pgTime(text).getTime()).toBe(viaDateParsing(text).getTime());
  });

  it('keeps null and Dates as they are', () => {
    expect(pgTime(null, true)).toBeNull();
    const date = new Date();
    expect(pgTime(date)).toBe(date);
  });

  it('gives an invalid Date for text that is no timestamp, as date parsing does', () => {
    expect(Number.isNaN(pgTime('2026-xx-03 13:47:49+00').getTime())).toBe(true);
  });
});

describe('selectedFields', () => {
  const document = parse(`
    query Q($withNotes: Boolean!) {
      investigations {
        totalCount
        edges { node { ...Core ... on Investigation { findings(first: 2) { edges { node { id summary } } } } notes @include(if: $withNotes) { id } } }
      }
    }
    fragment Core on Investigation { id title findings(first: 5) { totalCount edges { node { riskLevel } } } }
  `);
  const operation = document.definitions[0] as OperationDefinitionNode;
  const fragments = Object.fromEntries(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === 'FragmentDefinition').map((d) => [d.name.value, d]),
  );
  const root = operation.selectionSet.selections[0] as FieldNode;
  const info = { fieldNodes: [root], fragments };

  it('merges fields over fragments and inline fragments, and counts fields under @include as selected', () => {
    expect([...selectedFields(info)].sort()).toEqual(['edges', 'totalCount']);
    expect([...selectedFields(info, 'edges', 'node')].sort()).toEqual(['findings', 'id', 'notes', 'title']);
  });

  it('finds every node of a field below a path, in fragments too', () => {
    const findings = selectedFieldNodes(info, 'findings', 'edges', 'node');
    expect(findings).toHaveLength(2);
    const merged = selectedFields({ fieldNodes: findings, fragments }, 'edges', 'node');
    expect([...merged].sort()).toEqual(['id', 'riskLevel', 'summary']);
    expect([...selectedFields({ fieldNodes: findings, fragments })].sort()).toEqual(['edges', 'totalCount']);
  });
});

describe('isoString', () => {
  it('writes what Date#toISOString writes', () => {
    const edges = [0, -1, 951_782_400_000, 951_868_799_999, 4_102_444_799_999, 253_402_300_799_999, -30_610_224_000_000, -30_610_224_000_001, 253_402_300_800_000];
    const random = Array.from({ length: 5000 }, (_, i) => Math.floor(Date.UTC(1000, 0, 1) + ((i * 7_919_191_919) % 2.5e14)));
    for (const ms of [...edges, ...random]) expect(isoString(ms)).toBe(new Date(ms).toISOString());
  });
});
