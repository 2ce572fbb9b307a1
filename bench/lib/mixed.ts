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
}

interface MixedOptions {
  url: string;
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

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 100) / 100;
}

/**
 * The seed's load target: `users` concurrent clients, each looping over a weighted mix of reads,
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
    { kind: 'alerts', weight: 10, token: options.tokens.admin, query: '{ alerts(first: 20) { totalCount edges { node { id level title status } } } }' },
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
          body: JSON.stringify({ query: op.query, variables: op.variables }),
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
      if (failed) {
        errors += 1;
        stats.errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: options.users }, user));
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
  };
}
