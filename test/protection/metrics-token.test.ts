import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/infra/logger';
import { createServer } from '../../src/server';

/** A production configuration the security audit passes, apart from the metrics token under test. */
const PRODUCTION: Record<string, string> = {
  NODE_ENV: 'production',
  PORT: '0',
  VIGIL_JWT_SECRET: 'k7Q2vX9pLm4Rt8Wz1Nc6Hy3Bd5Fg0Js2Ue7Ka9Po4Ti6',
  // Nothing listens on port 1: a server that went past the check would fail on the database instead.
  DATABASE_URL: 'postgresql://vigil:Zr8-qLp2-Xv7m-Nd4w@127.0.0.1:1/vigil?sslmode=require',
  VIGIL_CORS_ORIGINS: 'https://console.example.net',
  VIGIL_INTROSPECTION: 'off',
  // The audit would rate the loopback database CRITICAL; the override does not open /metrics.
  VIGIL_ALLOW_INSECURE_START: 'true',
};

describe('/metrics in production', () => {
  it('is never public: startup refuses production without VIGIL_METRICS_TOKEN, before touching the database', async () => {
    const config = loadConfig(PRODUCTION);
    await expect(createServer(config, { logger: createLogger('silent') })).rejects.toThrow(/VIGIL_METRICS_TOKEN is required in production/);
  });
});
