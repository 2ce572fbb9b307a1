import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getNamedType, isNonNullType, isObjectType, type GraphQLSchema } from 'graphql';
import { allow } from 'graphql-shield';
import { ruleTree } from '../../src/permissions';
import { nodeRules } from '../../src/permissions/node-policy';
import { buildTypeSchema, printVigilSchema } from '../../src/schema/build';
import { ROW_NODE_SOURCES, TYPED_NODE_SOURCES } from '../../src/resolvers/node/node.sources';
import { NODE_TABLES } from '../../src/services/nodes/node-lookup';
import { undescribed } from './descriptions';

/** Root fields every caller gets, signed in or not: they stay non-null so clients need no null checks. */
const NON_NULL_FOR_EVERYONE = new Set(['health', 'myPermissions', 'mySessions']);

describe('the schema as clients read it', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildTypeSchema();
  });

  it('describes every type, field, argument, input field and enum value', () => {
    expect(undescribed(schema)).toEqual([]);
  });

  it('is checked in as the code prints it, in the code\'s order (enums lowest first)', async () => {
    const checkedIn = readFileSync(path.resolve(__dirname, '../../schema.graphql'), 'utf8');
    expect(checkedIn).toBe(await printVigilSchema());
    expect(checkedIn).toMatch(/enum RiskLevel \{[^}]*LOW[^}]*MEDIUM[^}]*HIGH[^}]*CRITICAL[^}]*\}/);
    expect(checkedIn).toMatch(/enum Role \{[^}]*VIEWER[^}]*ANALYST[^}]*SENIOR_ANALYST[^}]*INVESTIGATOR[^}]*ADMIN[^}]*SUPER_ADMIN[^}]*\}/);
  });

  it('makes every root query field a caller may be denied nullable', () => {
    const rules = ruleTree.Query as Record<string, unknown>;
    const fields = Object.values(schema.getQueryType()!.getFields());
    const guardedNonNull = fields.filter((f) => rules[f.name] !== allow && isNonNullType(f.type) && !NON_NULL_FOR_EVERYONE.has(f.name));
    expect(guardedNonNull.map((f) => f.name)).toEqual([]);
  });

  it('lets every connection page forward and backward', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        if (!getNamedType(field.type).name.endsWith('Connection')) continue;
        const args = new Set(field.args.map((a) => a.name));
        for (const name of ['first', 'after', 'last', 'before']) if (!args.has(name)) missing.push(`${type.name}.${field.name}(${name})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has a node rule, and a loader or table, for every type that implements Node', () => {
    const nodeTypes = schema.getPossibleTypes(schema.getType('Node') as never).map((t) => t.name);
    expect(nodeTypes.filter((name) => !nodeRules[name])).toEqual([]);
    const loaded = new Set([...ROW_NODE_SOURCES, ...TYPED_NODE_SOURCES].map((s) => s.typename));
    expect(nodeTypes.filter((name) => !loaded.has(name))).toEqual([]);
    // A row type is looked up in its table; every table listed is a Node type.
    expect(ROW_NODE_SOURCES.filter((s) => !NODE_TABLES[s.typename]).map((s) => s.typename)).toEqual([]);
    expect(Object.keys(NODE_TABLES).filter((name) => !nodeTypes.includes(name))).toEqual([]);
  });

  it('gives every object type with an id the Node interface, and BackupProgress an id of its own kind', () => {
    const node = schema.getType('Node');
    const withId = Object.values(schema.getTypeMap()).filter((t) => isObjectType(t) && !t.name.startsWith('__') && 'id' in t.getFields());
    expect(withId.filter((t) => isObjectType(t) && !t.getInterfaces().includes(node as never)).map((t) => t.name)).toEqual([]);
  });
});
