import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { findFreePort } from '../../src/infra/net';
import { startChild, type ChildServer } from './child';
import { connectSubscriber, percentile } from './subscribers';

export interface FanOutFigures {
  subscribers: number;
  alerts: number;
  delivered: number;
  expected: number;
  p50Ms: number;
  p99Ms: number;
  /** Server RSS growth per connected subscriber. */
  kbPerConnection: number;
}

export interface FanOutResult {
  vigil: FanOutFigures;
  baseline: FanOutFigures;
  ratios: { p50: number | null; p99: number | null; memory: number | null };
}

interface FanOutOptions {
  subscribers: number;
  alerts: number;
  startVigil(): Promise<{ child: ChildServer; url: string }>;
  signIn(url: string, email: string): Promise<string>;
}

const SELECTION = 'id level title message source fingerprint status count firstSeenAt';

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connects `n` subscribers (in batches) and records when each sees each alert title. */
async function connectSubscribers(
  wsUrl: string,
  n: number,
  token: string | undefined,
  query: string,
  seen: Map<string, number[]>,
): Promise<Client[]> {
  const clients: Client[] = [];
  for (let i = 0; i < n; i += 250) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(250, n - i) }, () =>
        connectSubscriber<{ alertRaised: { title: string } }>(wsUrl, token, query, {
          next: (data) => {
            const title = data?.alertRaised.title;
            if (title) seen.get(title)?.push(performance.now());
          },
        }),
      ),
    );
    clients.push(...batch);
  }
  await sleep(1000);
  return clients;
}

async function measureFanOut(
  pid: number,
  wsUrl: string,
  subscribers: number,
  alerts: number,
  token: string | undefined,
  query: string,
  publish: (title: string) => Promise<void>,
): Promise<FanOutFigures> {
  const seen = new Map<string, number[]>();
  await sleep(500);
  const before = rssKb(pid);
  const clients = await connectSubscribers(wsUrl, subscribers, token, query, seen);
  const after = rssKb(pid);
  const latencies: number[] = [];
  const sentAt = new Map<string, number>();
  for (let i = 0; i < alerts; i++) {
    const title = `fan-out alert ${i} ${Date.now()}`;
    seen.set(title, []);
    sentAt.set(title, performance.now());
    await publish(title);
    await sleep(250);
  }
  await sleep(2000);
  for (const [title, times] of seen) for (const t of times) latencies.push(t - sentAt.get(title)!);
  latencies.sort((a, b) => a - b);
  await Promise.all(clients.map((c) => c.dispose()));
  return {
    subscribers,
    alerts,
    delivered: latencies.length,
    expected: subscribers * alerts,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    kbPerConnection: Math.round(((after - before) / subscribers) * 10) / 10,
  };
}

/** Alerts delivered to many subscribers of one Vigil instance, beside a bare graphql-ws broadcaster. */
export async function runFanOut(options: FanOutOptions): Promise<FanOutResult> {
  const port = await findFreePort();
  const peer = await startChild(process.execPath, ['-r', '@swc-node/register', path.join(__dirname, '..', 'peers', 'graphql-ws-broadcast.ts')], {
    PORT: String(port),
  });
  let baseline: FanOutFigures;
  try {
    baseline = await measureFanOut(
      peer.pid,
      `ws://127.0.0.1:${port}/graphql`,
      options.subscribers,
      options.alerts,
      undefined,
      `subscription { alertRaised { ${SELECTION} } }`,
      async (title) => {
        const res = await fetch(`http://127.0.0.1:${port}/publish`, {
          method: 'POST',
          body: JSON.stringify({ id: title, level: 'ERROR', title, message: 'bench', source: 'bench', fingerprint: title, status: 'ACTIVE', count: 1, firstSeenAt: new Date().toISOString() }),
        });
        await res.arrayBuffer();
      },
    );
  } finally {
    await peer.stop();
  }
  console.log(`  baseline: ${JSON.stringify(baseline)}`);

  const vigil = await options.startVigil();
  let figures: FanOutFigures;
  try {
    const admin = await options.signIn(vigil.url, 'demo.admin@vigil.example');
    const analyst = await options.signIn(vigil.url, 'demo.analyst@vigil.example');
    figures = await measureFanOut(
      vigil.child.pid,
      vigil.url.replace('http', 'ws'),
      options.subscribers,
      options.alerts,
      analyst,
      `subscription { alertRaised(minLevel: INFO) { ${SELECTION} } }`,
      async (title) => {
        const res = await fetch(vigil.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
          body: JSON.stringify({
            query: 'mutation ($input: RaiseAlertInput!) { raiseAlert(input: $input) { id } }',
            variables: { input: { level: 'ERROR', title, message: 'bench', source: 'bench', fingerprint: title } },
          }),
        });
        const json = (await res.json()) as { errors?: unknown[] };
        if (json.errors) throw new Error(`raiseAlert failed: ${JSON.stringify(json.errors)}`);
      },
    );
  } finally {
    await vigil.child.stop();
  }
  console.log(`  vigil: ${JSON.stringify(figures)}`);
  const r = (a: number, b: number) => (b ? Math.round((a / b) * 100) / 100 : null);
  return {
    vigil: figures,
    baseline,
    ratios: { p50: r(figures.p50Ms, baseline.p50Ms), p99: r(figures.p99Ms, baseline.p99Ms), memory: r(figures.kbPerConnection, baseline.kbPerConnection) },
  };
}
