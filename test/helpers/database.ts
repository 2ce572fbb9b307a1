import { randomBytes } from 'node:crypto';
import { withClient } from './postgres';

/** A database of its own for one test file, copied from the migrated template. */
export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests with \`npm test\` (jest's global setup starts the services)`);
  return value;
}

/** The shared test server's superuser URL, for a database name. */
export function testPostgresUrl(database = 'postgres'): string {
  const url = new URL(required('VIGIL_TEST_PG_URL'));
  url.pathname = `/${database}`;
  return url.toString();
}

export function testRedisUrl(): string {
  return required('VIGIL_TEST_REDIS_URL');
}

/** Creates a fresh, migrated database (CREATE DATABASE … TEMPLATE is a file copy: fast). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `vigil_test_${randomBytes(6).toString('hex')}`;
  const template = required('VIGIL_TEST_PG_TEMPLATE');
  await withClient(testPostgresUrl(), (c) => c.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  return {
    name,
    url: testPostgresUrl(name),
    drop: () => withClient(testPostgresUrl(), (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}
