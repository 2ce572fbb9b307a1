import autocannon from 'autocannon';

/** What one load run measured (latencies in ms). */
export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  non2xx: number;
}

export interface LoadOptions {
  url: string;
  body: string;
  headers?: Record<string, string>;
  connections: number;
  durationSeconds: number;
}

/**
 * Sends one request and fails unless it answers 200 with data and no GraphQL errors: a fast
 * error is not a fast answer, so every scenario is checked before it is measured.
 */
export async function expectData(options: Pick<LoadOptions, 'url' | 'body' | 'headers'>): Promise<unknown> {
  const response = await fetch(options.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.body,
  });
  const text = await response.text();
  const json = JSON.parse(text) as { data?: unknown; errors?: unknown[] };
  if (response.status !== 200 || json.errors?.length || !json.data) {
    throw new Error(`scenario request failed (${response.status}): ${text.slice(0, 500)}`);
  }
  return json.data;
}

/** Sends POST requests with autocannon for a fixed time and summarises latency and throughput. */
export async function load(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    method: 'POST',
    connections: options.connections,
    duration: options.durationSeconds,
    headers: { 'content-type': 'application/json', ...options.headers },
    body: options.body,
  });
  return {
    requests: result.requests.total,
    rps: round(result.requests.average),
    p50: result.latency.p50,
    // autocannon reports p90 and p97.5 but not p95: interpolate between them.
    p95: round(result.latency.p90 + ((result.latency.p97_5 - result.latency.p90) * 5) / 7.5),
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

const round = (n: number) => Math.round(n * 100) / 100;
