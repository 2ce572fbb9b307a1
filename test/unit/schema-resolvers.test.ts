import { isObjectType } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { buildTypeSchema } from '../../src/schema/build';

/**
 * Object types are declared with `simpleResolvers: true`: their plain fields are read by
 * GraphQL's default resolver instead of a type-graphql wrapper per field (about 1,500 wrapper calls
 * for a page of 20 investigations with their findings). type-graphql skips middlewares and
 * `@Authorized` on such fields, so Vigil must have none: policy lives in the shield map.
 */
describe('type-graphql object types', () => {
  it('use no middlewares or @Authorized, which simple resolvers would skip', async () => {
    await buildTypeSchema();
    const storage = getMetadataStorage();
    expect(storage.middlewares).toHaveLength(0);
    expect(storage.resolverMiddlewares).toHaveLength(0);
    expect(storage.authorizedFields).toHaveLength(0);
    expect(storage.authorizedResolver).toHaveLength(0);
  });

  it('leave plain fields to the default resolver and keep the field resolvers', async () => {
    const schema = await buildTypeSchema();
    const wrapped: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__') || ['Query', 'Mutation', 'Subscription'].includes(type.name)) continue;
      for (const field of Object.values(type.getFields())) {
        if (field.resolve) wrapped.push(`${type.name}.${field.name}`);
      }
    }
    // Only fields with a @FieldResolver keep a resolver of their own.
    expect(wrapped).toEqual(expect.arrayContaining(['Investigation.findings', 'Investigation.assignee', 'Finding.subjectEmail']));
    expect(wrapped).not.toContain('Investigation.title');
    expect(wrapped).not.toContain('FindingEdge.node');
  });
});
