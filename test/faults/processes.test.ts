import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../src/infra/net';
import { isProcessAlive } from '../../src/infra/process-alive';
import { startGatewayProcess } from '../helpers/gateway-process';
import { startTestServer } from '../helpers/server';
import { until } from './helpers';

/**
 * `node src/main.ts` as `npm start` runs it: embedded PostgreSQL under `dataDir`, no other settings.
 * `startMs` is how long it took to serve.
 */
async function startGateway(dataDir: string, port: number) {
  const started = Date.now();
  const gateway = await startGatewayProcess({ port, env: { VIGIL_DATA_DIR: dataDir } });
  const startMs = Date.now() - started;
  const readyLine = () => {
    const line = gateway.output().split('\n').find((l) => l.includes('embedded PostgreSQL is ready'));
    return line ? (JSON.parse(line) as { postmasterPid: number; watchdogPid: number }) : undefined;
  };
  return { ...gateway, startMs, readyLine };
}

async function health(port: number): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ health { status } }' }),
  });
  return ((await res.json()) as { data?: unknown }).data;
}

describe('the embedded PostgreSQL never outlives the gateway', () => {
  let dataDir: string;
  let port: number;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-faults-'));
    port = await findFreePort();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('stops with a SIGHUP or a kill -9 of the gateway, and the next start serves in about the usual time; an orphan left anyway is taken over', async () => {
    // First start initialises the cluster; a closed terminal (SIGHUP) stops gracefully.
    const first = await startGateway(dataDir, port);
    const firstPg = first.readyLine()!.postmasterPid;
    first.child.kill('SIGHUP');
    expect(await first.exited).toBe(0);
    expect(isProcessAlive(firstPg)).toBe(false);

    // The usual start time on this machine, right now.
    const normal = await startGateway(dataDir, port);
    const normalStart = normal.startMs;
    const { postmasterPid, watchdogPid } = normal.readyLine()!;
    expect(isProcessAlive(postmasterPid)).toBe(true);

    // kill -9 while requests are in flight: the watchdog stops PostgreSQL.
    const inFlight = Array.from({ length: 20 }, () => health(port).catch(() => undefined));
    normal.child.kill('SIGKILL');
    await normal.exited;
    await Promise.all(inFlight);
    await until(() => !isProcessAlive(postmasterPid), 'PostgreSQL to stop after its gateway was killed', 30_000);
    await until(() => !isProcessAlive(watchdogPid), 'the watchdog to end with it');

    const afterKill = await startGateway(dataDir, port);
    const afterKillStart = afterKill.startMs;
    expect(await health(port)).toEqual({ health: { status: expect.any(String) } });
    // Compared with the normal start, not with a fixed time: no waiting on a lock or a stale server.
    expect(afterKillStart).toBeLessThan(normalStart * 3);

    // The watchdog killed as well (kill -9 of the whole group): the orphan is taken over next time.
    const orphan = afterKill.readyLine()!;
    process.kill(orphan.watchdogPid, 'SIGKILL');
    afterKill.child.kill('SIGKILL');
    await afterKill.exited;
    expect(isProcessAlive(orphan.postmasterPid)).toBe(true);
    const takeover = await startGateway(dataDir, port);
    try {
      expect(takeover.output()).toContain('taking it over');
      expect(isProcessAlive(orphan.postmasterPid)).toBe(false);
      expect(await health(port)).toEqual({ health: { status: expect.any(String) } });
    } finally {
      expect(await takeover.stop()).toBe(0);
    }
    // Stopped cleanly: PostgreSQL removes its pid file.
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  }, 480_000);
});

describe('graceful shutdown', () => {
  it('ends promptly with a request in flight, answers it, and answers requests during the drain with SERVICE_UNAVAILABLE', async () => {
    const timeoutMs = 10_000;
    const server = await startTestServer({ env: { VIGIL_SHUTDOWN_TIMEOUT_MS: String(timeoutMs), VIGIL_HEALTH_INTERVAL_MS: '0' } });
    try {
      const body = JSON.stringify({ query: '{ health { status } }' });
      // A keep-alive request whose body is still on its way when the shutdown starts, and one whose
      // headers are: the second reaches the gateway during the drain.
      const opened = async () => {
        const socket = connect(server.port, '127.0.0.1');
        await new Promise((resolve) => socket.once('connect', resolve));
        const state = { response: '', closed: new Promise((resolve) => socket.once('close', resolve)) };
        socket.on('data', (chunk: Buffer) => (state.response += chunk.toString()));
        return { socket, state };
      };
      const head = `POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n`;
      const inFlight = await opened();
      inFlight.socket.write(`${head}\r\n${body.slice(0, 5)}`);
      const late = await opened();
      late.socket.write(head.slice(0, 30));
      await new Promise((resolve) => setTimeout(resolve, 100));

      const started = Date.now();
      const stopping = server.stop();
      await new Promise((resolve) => setTimeout(resolve, 100));

      late.socket.write(`${head.slice(30)}\r\n${body}`);
      await late.state.closed;
      expect(late.state.response).toMatch(/^HTTP\/1\.1 503/);
      expect(late.state.response.toLowerCase()).toMatch(/retry-after: \d+/);
      const error = (JSON.parse(late.state.response.slice(late.state.response.indexOf('\r\n\r\n') + 4)) as { errors: { extensions: Record<string, unknown> }[] }).errors[0]!;
      expect(error.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'SHUTTING_DOWN' });
      expect(typeof error.extensions.requestId).toBe('string');

      inFlight.socket.write(body.slice(5));
      await inFlight.state.closed;
      await stopping;
      const took = Date.now() - started;
      expect(inFlight.state.response).toMatch(/^HTTP\/1\.1 200/);
      expect(inFlight.state.response.toLowerCase()).toContain('connection: close');
      expect(inFlight.state.response).toContain('"health"');
      // Ended with the last response, not at the timeout.
      expect(took).toBeLessThan(timeoutMs / 2);
    } finally {
      // stop() is the same promise again; this also drops the database.
      await server.close();
    }
  }, 60_000);
});
