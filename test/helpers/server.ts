import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config';
import { createLogger, type Logger } from '../../src/infra/logger';
import { createServer, type VigilServer } from '../../src/server';
import { createTestDatabase, testRedisUrl, type TestDatabase } from './database';

export interface TestServer extends VigilServer {
  config: Config;
  database: TestDatabase;
  /** Stops the gateway, then drops its database unless it was handed in. */
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Extra environment settings, as the gateway reads them. */
  env?: Record<string, string>;
  /** Share a database with another instance (it is not dropped on close). */
  database?: TestDatabase;
  /** Use the shared test Redis (default true). */
  redis?: boolean;
  /** Share a Redis key/channel prefix with another instance. */
  redisPrefix?: string;
  logger?: Logger;
}

/** A 48-byte signing key for tests; production keys come from configuration. */
export const TEST_JWT_SECRET = 'test-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz';

/** Starts a real gateway on a free port, with its own database copied from the migrated template. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownDatabase = !options.database;
  const database = options.database ?? (await createTestDatabase());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-data-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    ...(options.redis === false ? {} : { REDIS_URL: testRedisUrl() }),
    VIGIL_REDIS_PREFIX: options.redisPrefix ?? `test:${randomBytes(4).toString('hex')}:`,
    VIGIL_DATA_DIR: dataDir,
    VIGIL_JWT_SECRET: TEST_JWT_SECRET,
    ...options.env,
  });
  try {
    const server = await createServer(config, { logger: options.logger ?? createLogger('silent') });
    return {
      ...server,
      config,
      database,
      async close() {
        await server.stop();
        if (ownDatabase) await database.drop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (ownDatabase) await database.drop();
    throw error;
  }
}
