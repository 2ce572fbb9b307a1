import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../src/infra/net';
import { Role } from '../../src/permissions/roles';
import { tokenFor } from '../helpers/auth';
import { wsClient } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';
import { PROMETHEUS, RULES_FILE, seriesUsed } from './ops-files';

const METRICS_TOKEN = 'prometheus-e2e-metrics-token';

async function post(url: string, query: string, token?: string): Promise<{ status: number; body: { data?: unknown; errors?: unknown[] } }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: (await res.json()) as { data?: unknown; errors?: unknown[] } };
}

/** Polls `check` until it returns a value, or fails with what `describe` says after `timeoutMs`. */
async function until<T>(check: () => Promise<T | undefined>, timeoutMs: number, describe: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('a real Prometheus scraping a running gateway', () => {
  let server: TestServer;
  let prometheus: ChildProcess;
  let promUrl: string;
  let dir: string;
  let output = '';

  beforeAll(async () => {
    if (!existsSync(PROMETHEUS)) throw new Error(`prometheus is not installed at ${PROMETHEUS}: apt-get install -y prometheus (or set PROMETHEUS)`);
    server = await startTestServer({
      env: { VIGIL_METRICS_TOKEN: METRICS_TOKEN, VIGIL_RATE_LIMIT_ANONYMOUS: '5', VIGIL_BACKUP_SCHEDULE: 'off', VIGIL_BACKUP_DRILL_SCHEDULE: 'off' },
    });
    dir = mkdtempSync(path.join(tmpdir(), 'vigil-prometheus-'));
    copyFileSync(RULES_FILE, path.join(dir, 'vigil.rules.yml'));
    const target = new URL(server.url).host;
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'rule_files: [vigil.rules.yml]',
        'scrape_configs:',
        '  - job_name: vigil',
        '    metrics_path: /metrics',
        `    authorization: { type: Bearer, credentials: ${METRICS_TOKEN} }`,
        `    static_configs: [{ targets: ['${target}'] }]`,
        '',
      ].join('\n'),
    );
    const port = await findFreePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    prometheus.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await until(async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined), 30_000, () => `Prometheus did not get ready:\n${output}`);
  }, 120_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus.once('exit', r));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds every series the rules and the dashboard use, and loads the rules', async () => {
    // Traffic that makes the labelled series exist: operations, an error, a rate-limit refusal, an
    // alert, a backup, a chain verification, a websocket that connects and leaves.
    const admin = await tokenFor(server, Role.SUPER_ADMIN);
    expect((await post(server.url, '{ health { status } }', admin)).body.errors).toBeUndefined();
    expect((await post(server.url, '{ nope }', admin)).status).toBe(400);
    expect((await post(server.url, 'mutation { raiseAlert(input: { level: WARNING, title: "prometheus e2e" }) { id } }', admin)).body.errors).toBeUndefined();
    expect((await post(server.url, 'mutation { createBackup(label: "prometheus-e2e") { id } }', admin)).body.errors).toBeUndefined();
    expect((await post(server.url, '{ verifyAuditChain { ok } }', admin)).body).toEqual({ data: { verifyAuditChain: { ok: true } } });
    expect((await post(server.url, '{ dbStats { sizeBytes } }', admin)).body.errors).toBeUndefined();
    const ws = wsClient(server.url.replace('http', 'ws'), admin);
    await new Promise<void>((resolve, reject) => {
      const stop = ws.subscribe({ query: '{ health { status } }' }, { next: () => undefined, error: reject, complete: () => resolve() });
      void stop;
    });
    await ws.dispose();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await post(server.url, '{ health { status } }')).status);
    expect(statuses).toContain(429);

    const used = seriesUsed();
    const wanted = [...new Set([...used.rules, ...used.dashboard])].sort();
    expect(wanted.length).toBeGreaterThan(15);
    const present = async (name: string) => {
      const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(`count({__name__="${name}", job="vigil"})`)}`);
      const body = (await res.json()) as { data: { result: unknown[] } };
      return body.data.result.length > 0;
    };
    let missing: string[] = wanted;
    await until(
      async () => {
        const found = await Promise.all(missing.map(async (n) => ((await present(n)) ? undefined : n)));
        missing = found.filter((n): n is string => n !== undefined);
        return missing.length === 0 ? true : undefined;
      },
      60_000,
      () => `series the rules or the dashboard use that the gateway does not export: ${missing.join(', ')}\n${output.slice(-2000)}`,
    );

    // The recording rules evaluate over those series.
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] } };
    const all = rules.data.groups.flatMap((g) => g.rules);
    expect(all.length).toBe(16);
    expect(all.filter((r) => r.health === 'err')).toEqual([]);
    await until(
      async () => {
        const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent('vigil:graphql_operations:rate5m{job="vigil"}')}`);
        const body = (await res.json()) as { data: { result: unknown[] } };
        return body.data.result.length > 0 ? true : undefined;
      },
      60_000,
      () => 'the recording rule vigil:graphql_operations:rate5m never produced a value',
    );
  }, 180_000);
});
