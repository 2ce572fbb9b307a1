import type { Client } from 'graphql-ws';
import { connectSubscriber, percentile } from './subscribers';

export interface MixedResult {
  users: number;
  seconds: number;
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  errorRate: number;
  byKind: Record<string, { requests: number; p95: number; errors: number }>;
  /** The `alertRaised` subscriptions held open during the run (one per user). */
  subscriptions: { open: number; alertsRaised: number; eventsDelivered: number; eventsExpected: number; errors: number };
}

interface MixedOptions {
  url: string;
  /** `ws://…/graphql`: every user also holds an `alertRaised` subscription for the whole run. */
  wsUrl: string;
  users: number;
  seconds: number;
  tokens: { analyst: string; admin: string };
  readQuery: string;
  writeQuery: string;
}

interface Op {
  kind: string;
  weight: number;
  token?: string;
  query: string;
  variables?: Record<string, unknown>;
}

/**
 * The target load: `users` concurrent clients, each looping over a weighted mix of reads,
 * writes, health and alert queries for `seconds`; latency per request, errors counted from HTTP
 * status and GraphQL `errors`.
 */
export async function runMixedWorkload(options: MixedOptions): Promise<MixedResult> {
  const ops: Op[] = [
    { kind: 'nested-read', weight: 55, token: options.tokens.analyst, query: options.readQuery },
    { kind: 'filtered-read', weight: 15, token: options.tokens.analyst, query: '{ investigations(first: 10, filter: { status: OPEN }) { totalCount edges { node { id title riskLevel } } } }' },
    {
      kind: 'write',
      weight: 10,
      token: options.tokens.analyst,
      query: options.writeQuery,
      variables: { input: { title: 'Mixed workload investigation', riskLevel: 'LOW', tags: ['bench'] } },
    },
    { kind: 'health', weight: 10, query: '{ health { status } }' },
    { kind: 'alerts', weight: 9, token: options.tokens.admin, query: '{ alerts(first: 20) { totalCount edges { node { id level title status } } } }' },
    {
      kind: 'raise-alert',
      weight: 1,
      token: options.tokens.admin,
      query: 'mutation ($input: RaiseAlertInput!) { raiseAlert(input: $input) { id } }',
      variables: { input: { level: 'INFO', title: 'Mixed workload alert', message: 'bench', source: 'bench' } },
    },
  ];
  const total = ops.reduce((s, o) => s + o.weight, 0);
  const pick = () => {
    let r = Math.random() * total;
    for (const op of ops) if ((r -= op.weight) < 0) return op;
    return ops[0]!;
  };
  const latencies: number[] = [];
  const perKind = new Map<string, { latencies: number[]; errors: number }>(ops.map((o) => [o.kind, { latencies: [], errors: 0 }]));
  let errors = 0;
  let raised = 0;
  const subscriptions = await openSubscriptions(options.wsUrl, options.users, options.tokens.analyst);
  const deadline = Date.now() + options.seconds * 1000;
  const user = async () => {
    while (Date.now() < deadline) {
      const op = pick();
      const started = performance.now();
      let failed = false;
      try {
        const res = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(op.token ? { authorization: `Bearer ${op.token}` } : {}) },
          body: JSON.stringify({ query: op.query, variables: op.kind === 'raise-alert' ? uniqueAlert() : op.variables }),
        });
        const json = (await res.json()) as { errors?: unknown[] };
        failed = res.status !== 200 || Boolean(json.errors?.length);
      } catch {
        failed = true;
      }
      const elapsed = performance.now() - started;
      latencies.push(elapsed);
      const stats = perKind.get(op.kind)!;
      stats.latencies.push(elapsed);
      if (op.kind === 'raise-alert' && !failed) raised += 1;
      if (failed) {
        errors += 1;
        stats.errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.users }, user));
  // Each unique title is a new alert; let the last events arrive before counting.
  await new Promise((r) => setTimeout(r, 1000));
  const delivered = subscriptions.events();
  const subscriptionErrors = subscriptions.errors();
  await subscriptions.close();
  latencies.sort((a, b) => a - b);
  const byKind = Object.fromEntries(
    [...perKind].map(([kind, s]) => {
      s.latencies.sort((a, b) => a - b);
      return [kind, { requests: s.latencies.length, p95: percentile(s.latencies, 95), errors: s.errors }];
    }),
  );
  return {
    users: options.users,
    seconds: options.seconds,
    requests: latencies.length,
    rps: Math.round(latencies.length / options.seconds),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    errors,
    errorRate: latencies.length ? errors / latencies.length : 0,
    byKind,
    subscriptions: {
      open: options.users,
      alertsRaised: raised,
      eventsDelivered: delivered,
      eventsExpected: raised * options.users,
      errors: subscriptionErrors,
    },
  };
}

let alertNumber = 0;

/** A new alert each time (a repeated fingerprint within the cooldown only counts on the first). */
function uniqueAlert(): Record<string, unknown> {
  alertNumber += 1;
  const title = `Mixed workload alert ${alertNumber} ${Date.now()}`;
  return { input: { level: 'INFO', title, message: 'bench', source: 'bench', fingerprint: title } };
}

/** `n` websocket clients, each subscribed to `alertRaised`, counting the events they receive. */
async function openSubscriptions(wsUrl: string, n: number, token: string) {
  let events = 0;
  let errors = 0;
  const clients: Client[] = await Promise.all(
    Array.from({ length: n }, () =>
      connectSubscriber(wsUrl, token, 'subscription { alertRaised(minLevel: INFO) { id title level } }', {
        next: (_data, hasErrors) => {
          if (hasErrors) errors += 1;
          else events += 1;
        },
        error: () => {
          errors += 1;
        },
      }),
    ),
  );
  return {
    events: () => events,
    errors: () => errors,
    close: () => Promise.all(clients.map((c) => c.dispose())).then(() => undefined),
  };
}
