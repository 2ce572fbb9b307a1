/** Stops the services the global setup started, whatever the tests' outcome. */
export default async function globalTeardown(): Promise<void> {
  const services = globalThis.__vigilServices;
  if (!services) return;
  await Promise.allSettled([services.postgres.destroy(), services.redis.stop()]);
  globalThis.__vigilServices = undefined;
}
