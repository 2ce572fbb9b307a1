import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { findFreePort } from '../../src/infra/net';

/** A throwaway Redis server on a free loopback port. */
export interface TestRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open and nothing answers, as a hung Redis does. */
  freeze(): void;
  /** Lets a frozen server run again (SIGCONT). */
  thaw(): void;
}

const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

async function waitForRedis(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch (error) {
      client.disconnect();
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Says what to install instead of an ENOENT from `spawn` when redis-server is missing. */
export function assertRedisInstalled(): void {
  const found = REDIS_SERVER.includes('/')
    ? existsSync(REDIS_SERVER)
    : (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, REDIS_SERVER)));
  if (!found) throw new Error(`redis-server is not installed (${REDIS_SERVER} not found): apt-get install -y redis-server, or set REDIS_SERVER`);
}

/** Starts `redis-server` without persistence; `stop`/`start` simulate an outage on the same port. */
export async function startRedis(): Promise<TestRedis> {
  assertRedisInstalled();
  const port = await findFreePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    child.once('error', (error) => {
      throw new Error(`could not start ${REDIS_SERVER}: ${error.message} (apt-get install redis-server)`);
    });
    await waitForRedis(url);
  };
  const stop = async () => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      current.once('exit', () => resolve());
      current.kill('SIGKILL');
    });
  };
  await start();
  return { url, port, start, stop, freeze: () => void child?.kill('SIGSTOP'), thaw: () => void child?.kill('SIGCONT') };
}
