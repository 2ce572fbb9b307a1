import { ConfigError, loadConfig } from '../../src/config';

describe('loadConfig', () => {
  it('starts with no settings: embedded database, in-process pub/sub, port 4000 on loopback', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.dataDir).toMatch(/\.vigil$/);
    expect(config.introspection).toBe('on');
  });

  it('listens on every interface in production', () => {
    const config = loadConfig({ NODE_ENV: 'production', VIGIL_JWT_SECRET: 'x'.repeat(40) });
    expect(config.host).toBe('0.0.0.0');
    expect(config.introspection).toBe('off');
  });

  it.each([
    [{ PORT: 'eighty' }, /^Invalid setting PORT: /],
    [{ PORT: '70000' }, /^Invalid setting PORT: /],
    [{ DATABASE_URL: 'mysql://x' }, /^Invalid setting DATABASE_URL: must be a postgres/],
    [{ REDIS_URL: 'http://x' }, /^Invalid setting REDIS_URL: /],
    [{ LOG_LEVEL: 'loud' }, /^Invalid setting LOG_LEVEL: /],
    [{ NODE_ENV: 'production' }, /^Invalid setting VIGIL_JWT_SECRET: is required in production$/],
    [{ VIGIL_JWT_SECRET: 'short' }, /^Invalid setting VIGIL_JWT_SECRET: must be at least 32 bytes$/],
    [{ VIGIL_ADMIN_EMAIL: 'not-an-email' }, /^Invalid setting VIGIL_ADMIN_EMAIL: /],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).databaseUrl).toBeUndefined();
  });

  it('splits list settings', () => {
    const config = loadConfig({ VIGIL_CORS_ORIGINS: 'https://a.example, https://b.example' });
    expect(config.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  it('does not throttle a developer: the anonymous limit is 6000 in development, 60 in production, and an explicit one wins', () => {
    const limit = (env: Record<string, string>) => loadConfig(env).protection.rateLimit.anonymous;
    expect(limit({ NODE_ENV: 'development' })).toBe(6000);
    expect(limit({ NODE_ENV: 'production', VIGIL_JWT_SECRET: 'x'.repeat(40) })).toBe(60);
    expect(limit({ NODE_ENV: 'development', VIGIL_RATE_LIMIT_ANONYMOUS: '60' })).toBe(60);
  });
});
