// `npm run bench`: every scenario against throwaway PostgreSQL and Redis started here, each server
// in its own process and alone on the machine while it is measured. Figures are ratios against
// baselines measured in the same run. `--quick` shortens every phase (for a smoke run).
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { migrate, openOrm } from '../src/infra/db';
import { createLogger } from '../src/infra/logger';
import { findFreePort } from '../src/infra/net';
import { startPostgres, withClient, type TestPostgres } from '../test/helpers/postgres';
import { startRedis, type TestRedis } from '../test/helpers/redis';
import { startChild, type ChildServer } from './lib/child';
import { runFanOut, type FanOutResult } from './lib/fanout';
import { expectData, load, type LoadResult } from './lib/load';
import { runMixedWorkload, type MixedResult } from './lib/mixed';
import { ensureNode22 } from './lib/node22';
import { countStatements } from './lib/statements';
import { runBackupBench, type BackupBenchResult } from './lib/backup';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');
const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const investigationsArg = process.argv.find((a) => a.startsWith('--investigations='))?.slice('--investigations='.length);

const SETTINGS = {
  investigations: investigationsArg ? Number(investigationsArg) : quick ? 1000 : 10_000,
  findingsPer: 10,
  warmupSeconds: quick ? 1 : 3,
  durationSeconds: quick ? 3 : 15,
  /** Alternating rounds of the nested-read comparison. */
  nestedRounds: quick ? 1 : 3,
  readConnections: 50,
  writeConnections: 20,
  fanOutSubscribers: quick ? 500 : 5000,
  fanOutAlerts: quick ? 10 : 30,
  mixedUsers: 100,
  mixedSeconds: quick ? 10 : 120,
};

const DEMO_PASSWORD = 'bench-demo-password-1';
/** A fresh signing key per run (a fixed, guessable one fails Vigil's own startup security audit). */
const BENCH_SECRET = randomBytes(48).toString('base64');

/** A page of 20 investigations with findings, actions, assignee and creator (field names of schema.graphql). */
const VIGIL_NESTED_READ = `query NestedRead {
  investigations(first: 20) {
    totalCount
    edges { cursor node {
      id title status riskLevel tags version createdAt
      assignee { id name email }
      createdBy { id name email }
      findings(first: 10) { edges { node { id summary riskLevel source observedAt } } }
      actions { id title status }
    } }
  }
}`;

/** The same page through PostGraphile's generated schema (amber preset inflection). */
const POSTGRAPHILE_NESTED_READ = `query NestedRead {
  allInvestigations(first: 20, orderBy: [CREATED_AT_DESC]) {
    totalCount
    edges { cursor node {
      rowId title status riskLevel tags version createdAt
      userByAssigneeId { rowId name email }
      userByCreatedById { rowId name email }
      findingsByInvestigationId(first: 10, orderBy: [CREATED_AT_DESC]) { nodes { rowId summary riskLevel source observedAt } }
      recommendedActionsByInvestigationId { nodes { rowId title status } }
    } }
  }
}`;

const CREATE_INVESTIGATION = `mutation CreateInvestigation($input: CreateInvestigationInput!) {
  createInvestigation(input: $input) { id version }
}`;

interface ScenarioResult extends LoadResult {
  name: string;
  connections: number;
  statementsPerRequest?: number;
  /** Requests per second of each round, when measured in alternating rounds. */
  rounds?: number[];
}

function body(query: string, variables?: Record<string, unknown>): string {
  return JSON.stringify({ query, variables });
}

async function measure(
  name: string,
  server: { url: string; headers?: Record<string, string> },
  query: string,
  connections: number,
  variables?: Record<string, unknown>,
): Promise<ScenarioResult> {
  const request = { url: server.url, body: body(query, variables), headers: server.headers };
  await expectData(request);
  await load({ ...request, connections, durationSeconds: SETTINGS.warmupSeconds });
  const result = await load({ ...request, connections, durationSeconds: SETTINGS.durationSeconds });
  console.log(`  ${name}: ${result.rps} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, errors ${result.errors}, non-2xx ${result.non2xx}`);
  return { name, connections, ...result };
}

/**
 * Measures servers in alternating rounds (A B A B …) after a warm-up each, and gives each its
 * median round (by requests per second), with every round's rate in `rounds`.
 */
async function measureAlternating(
  sides: { name: string; label: string; server: { url: string; headers?: Record<string, string> }; query: string }[],
  connections: number,
): Promise<ScenarioResult[]> {
  const rounds = new Map<string, LoadResult[]>(sides.map((side) => [side.name, []]));
  for (const side of sides) {
    const request = { url: side.server.url, body: body(side.query), headers: side.server.headers };
    await expectData(request);
    await load({ ...request, connections, durationSeconds: SETTINGS.warmupSeconds });
  }
  for (let round = 1; round <= SETTINGS.nestedRounds; round++) {
    for (const side of sides) {
      const result = await load({ url: side.server.url, body: body(side.query), headers: side.server.headers, connections, durationSeconds: SETTINGS.durationSeconds });
      rounds.get(side.name)!.push(result);
      console.log(`  round ${round}, ${side.label}: ${result.rps} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, errors ${result.errors}, non-2xx ${result.non2xx}`);
    }
  }
  return sides.map((side) => {
    const all = rounds.get(side.name)!;
    const median = [...all].sort((a, b) => a.rps - b.rps)[Math.floor(all.length / 2)]!;
    return { name: side.name, connections, ...median, rounds: all.map((r) => r.rps) };
  });
}

async function signIn(url: string, email: string): Promise<string> {
  const data = (await expectData({
    url,
    body: body('mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }', {
      email,
      password: DEMO_PASSWORD,
    }),
  })) as { login: { accessToken: string } };
  return data.login.accessToken;
}

function vigilEnv(postgres: TestPostgres, redis: TestRedis, port: number): NodeJS.ProcessEnv {
  return {
    // As deployed (and as PostGraphile runs here): production mode. The throwaway local PostgreSQL
    // and Redis have no password or TLS, which the startup security audit refuses in production
    // unless told this start is deliberate.
    NODE_ENV: 'production',
    VIGIL_ALLOW_INSECURE_START: 'true',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    DATABASE_URL: postgres.url('vigil_bench'),
    DATABASE_POOL_MAX: '10',
    REDIS_URL: redis.url,
    VIGIL_JWT_SECRET: BENCH_SECRET,
    VIGIL_DATA_DIR: path.join(os.tmpdir(), `vigil-bench-${process.pid}`),
    // Every protection stays on; the per-user limits are raised because one signed-in analyst
    // produces the whole load here.
    // Names and bounds from src/config.ts (`config.protection`); limiting stays enabled.
    VIGIL_RATE_LIMIT_ENABLED: 'true',
    VIGIL_RATE_LIMIT_USER: '1000000',
    VIGIL_RATE_LIMIT_ANONYMOUS: '1000000',
    VIGIL_RATE_LIMIT_ROLES: 'ANALYST=1000000,ADMIN=1000000,SUPER_ADMIN=1000000',
    VIGIL_RATE_LIMIT_LOGIN: '100000',
    VIGIL_COST_BUDGET: '1000000000',
    // The fan-out and mixed workload open thousands of subscriptions for one analyst.
    VIGIL_RATE_LIMIT_WS_SUBSCRIBE: '1000000',
  };
}

async function startVigil(postgres: TestPostgres, redis: TestRedis): Promise<{ child: ChildServer; url: string; port: number }> {
  const port = await findFreePort();
  // BENCH_CPU_PROF=<dir>: a V8 CPU profile of each Vigil process, written when it stops.
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : [];
  const child = await startChild(
    process.execPath,
    [...profile, '-r', '@swc-node/register', path.join(__dirname, 'peers', 'vigil-server.ts')],
    vigilEnv(postgres, redis, port),
  );
  return { child, url: `http://127.0.0.1:${port}/graphql`, port };
}

function ratio(a: number | undefined, b: number | undefined): number | null {
  return a && b ? Math.round((a / b) * 100) / 100 : null;
}

async function main(): Promise<void> {
  const started = Date.now();
  console.log(`Vigil benchmarks${quick ? ' (quick)' : ''} on ${os.cpus().length} cores, Node ${process.version}`);
  const node22 = await ensureNode22();
  const [postgres, redis] = await Promise.all([
    startPostgres({ shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' }),
    startRedis(),
  ]);
  const results: ScenarioResult[] = [];
  let fanOut: FanOutResult | undefined;
  let mixed: MixedResult | undefined;
  let backup: BackupBenchResult | undefined;
  const want = (name: string) => !only || only.includes(name);
  try {
    await withClient(postgres.url(), (c) => c.query('CREATE DATABASE vigil_bench'));
    await withClient(postgres.url('vigil_bench'), (c) => c.query('CREATE EXTENSION pg_stat_statements'));
    const orm = await openOrm(postgres.url('vigil_bench'), 2, createLogger('silent'));
    await migrate(orm);
    await orm.close(true);

    console.log(`seeding ${SETTINGS.investigations} investigations × ${SETTINGS.findingsPer} findings …`);
    const seedStarted = Date.now();
    await run(
      process.execPath,
      [path.join(ROOT, 'bin', 'vigil.js'), 'seed', '--demo', '--investigations', String(SETTINGS.investigations), '--findings-per', String(SETTINGS.findingsPer), '--password', DEMO_PASSWORD],
      { env: { ...process.env, ...vigilEnv(postgres, redis, 0), LOG_LEVEL: 'error' }, timeout: 30 * 60_000, maxBuffer: 64 * 1024 * 1024 },
    );
    console.log(`  seeded in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s`);
    await withClient(postgres.url('vigil_bench'), (c) => c.query('VACUUM ANALYZE'));

    if (want('hello')) {
      console.log('bare Apollo Server 5 hello …');
      const port = await findFreePort();
      const hello = await startChild(process.execPath, ['-r', '@swc-node/register', path.join(__dirname, 'peers', 'apollo-hello.ts')], { PORT: String(port) });
      try {
        results.push(await measure('apollo-hello', { url: `http://127.0.0.1:${port}/` }, '{ hello }', SETTINGS.readConnections));
      } finally {
        await hello.stop();
      }
    }

    // The nested read of PostGraphile and of Vigil is measured in alternating rounds, both servers
    // started (the one not under load idles): on a shared, noisy machine the speed drifts by tens
    // of percent within minutes, and a ratio of two measurements minutes apart measured the drift
    // as much as the servers. Each side's figures are those of its median round.
    const peerPort = await findFreePort();
    const peer = want('postgraphile')
      ? {
          child: await startChild(node22.node, [path.join(__dirname, 'peers', 'postgraphile-server.cjs')], {
            DATABASE_URL: postgres.url('vigil_bench'),
            PORT: String(peerPort),
            NODE_PATH: node22.nodePath,
            NODE_ENV: 'production',
          }),
          url: `http://127.0.0.1:${peerPort}/graphql`,
        }
      : undefined;
    const vigil = await startVigil(postgres, redis);
    try {
      const analyst = await signIn(vigil.url, 'demo.analyst@vigil.example');
      const server = { url: vigil.url, headers: { authorization: `Bearer ${analyst}` } };
      const sides = [
        ...(peer ? [{ name: 'postgraphile-nested-read', label: 'PostGraphile 5 (amber)', server: { url: peer.url }, query: POSTGRAPHILE_NESTED_READ }] : []),
        ...(want('nested-read') ? [{ name: 'vigil-nested-read', label: 'Vigil (ANALYST, every protection on)', server, query: VIGIL_NESTED_READ }] : []),
      ];
      if (sides.length) {
        console.log(`nested read, ${SETTINGS.nestedRounds} alternating round(s) of ${SETTINGS.durationSeconds} s per server …`);
        results.push(...(await measureAlternating(sides, SETTINGS.readConnections)));
        for (const side of sides) {
          results.find((r) => r.name === side.name)!.statementsPerRequest = await countStatements(postgres.url('vigil_bench'), side.server, body(side.query));
        }
      }
      await peer?.child.stop();
      if (want('write')) {
        console.log('Vigil write path (createInvestigation with its audit entry) …');
        const variables = { input: { title: 'Bench: coordinated inauthentic behaviour', description: 'Created by the write-path benchmark', riskLevel: 'MEDIUM', tags: ['bench'] } };
        const result = await measure('vigil-create-investigation', server, CREATE_INVESTIGATION, SETTINGS.writeConnections, variables);
        result.statementsPerRequest = await countStatements(postgres.url('vigil_bench'), server, body(CREATE_INVESTIGATION, variables));
        results.push(result);
      }
    } finally {
      await Promise.all([vigil.child.stop(), peer?.child.stop()]);
    }

    if (want('fanout')) {
      console.log(`subscription fan-out to ${SETTINGS.fanOutSubscribers} subscribers …`);
      fanOut = await runFanOut({
        subscribers: SETTINGS.fanOutSubscribers,
        alerts: SETTINGS.fanOutAlerts,
        startVigil: () => startVigil(postgres, redis),
        signIn,
      });
    }

    if (want('mixed')) {
      console.log(`mixed workload: ${SETTINGS.mixedUsers} users for ${SETTINGS.mixedSeconds} s …`);
      const again = await startVigil(postgres, redis);
      try {
        mixed = await runMixedWorkload({
          url: again.url,
          wsUrl: again.url.replace('http', 'ws'),
          users: SETTINGS.mixedUsers,
          seconds: SETTINGS.mixedSeconds,
          tokens: {
            analyst: await signIn(again.url, 'demo.analyst@vigil.example'),
            admin: await signIn(again.url, 'demo.admin@vigil.example'),
          },
          readQuery: VIGIL_NESTED_READ,
          writeQuery: CREATE_INVESTIGATION,
        });
      } finally {
        await again.child.stop();
      }
    }

    if (want('backup')) {
      console.log(`backup of ${SETTINGS.investigations} investigations beside pg_dump | gzip …`);
      backup = await runBackupBench(postgres.url('vigil_bench'), quick ? 1 : 3);
      console.log(`  ${JSON.stringify(backup)}`);
    }
  } finally {
    await Promise.allSettled([postgres.destroy(), redis.stop()]);
  }

  const byName = Object.fromEntries(results.map((r) => [r.name, r]));
  const nested = byName['vigil-nested-read'];
  const report = {
    at: new Date().toISOString(),
    quick,
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version },
    settings: SETTINGS,
    scenarios: results,
    ratios: {
      vigilOverPostgraphile: ratio(nested?.rps, byName['postgraphile-nested-read']?.rps),
      vigilOverHello: ratio(nested?.rps, byName['apollo-hello']?.rps),
      writeOverHello: ratio(byName['vigil-create-investigation']?.rps, byName['apollo-hello']?.rps),
    },
    targets: {
      nestedReadAtLeastPostgraphile: nested && byName['postgraphile-nested-read'] ? nested.rps >= byName['postgraphile-nested-read'].rps : null,
      nestedReadP99Under100ms: nested ? nested.p99 < 100 : null,
      mixedP95Under200ms: mixed ? mixed.p95 < 200 : null,
      mixedErrorRateUnder0_1Percent: mixed ? mixed.errorRate < 0.001 : null,
    },
    fanOut,
    mixed,
    backup,
    seconds: Math.round((Date.now() - started) / 1000),
  };

  console.log('\nscenario                        conns    req/s    p50    p95    p99  errors  SQL/req');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(30)} ${String(r.connections).padStart(6)} ${String(r.rps).padStart(8)} ${String(r.p50).padStart(6)} ${String(r.p95).padStart(6)} ${String(r.p99).padStart(6)} ${String(r.errors + r.non2xx).padStart(7)} ${String(r.statementsPerRequest ?? '').padStart(8)}`,
    );
  }
  console.log(`\nratios: ${JSON.stringify(report.ratios)}`);
  console.log(`targets: ${JSON.stringify(report.targets)}`);
  if (fanOut) console.log(`fan-out: ${JSON.stringify(fanOut)}`);
  if (mixed) console.log(`mixed: ${JSON.stringify(mixed)}`);
  if (backup) console.log(`backup: ${JSON.stringify(backup)}`);
  mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  // A partial run must not overwrite the full run's figures.
  const name = quick ? 'quick' : only ? `only-${only.join('-')}` : 'latest';
  const file = path.join(__dirname, 'results', `${name}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(ROOT, file)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
