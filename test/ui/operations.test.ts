import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { UI_OPERATIONS } from '../../src/ui/shared/operations';

const schema = buildSchema(readFileSync(path.resolve(__dirname, '..', '..', 'schema.graphql'), 'utf8'));

describe('the operations the browser pages send', () => {
  it.each(Object.entries(UI_OPERATIONS))('%s is valid against schema.graphql', (_name, text) => {
    expect(validate(schema, parse(text)).map((e) => e.message)).toEqual([]);
  });
});
