import 'reflect-metadata';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { printVigilSchema } from '../schema/build';

/** `schema.graphql` at the repository root: what client code generators read. */
const SCHEMA_FILE = path.resolve(__dirname, '../../schema.graphql');

async function main(command: string | undefined): Promise<number> {
  const sdl = await printVigilSchema();
  if (command === 'print') {
    await writeFile(SCHEMA_FILE, sdl);
    console.log(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}`);
    return 0;
  }
  if (command === 'check') {
    const current = await readFile(SCHEMA_FILE, 'utf8').catch(() => '');
    if (current === sdl) {
      console.log('schema.graphql matches the code');
      return 0;
    }
    console.error('schema.graphql does not match the code: run `npm run schema:print` and commit the result');
    return 1;
  }
  console.error('usage: schema.ts print|check');
  return 2;
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
