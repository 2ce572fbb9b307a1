import { HealthChangedDocument, HealthStatusOnlyDocument } from '../generated/graphql';
import { graphql, subscribe, wsClient } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\["\\\\n])*"';
// Values as Prometheus parses them (Go's ParseFloat: NaN and Inf in any case; prom-client writes `Nan`).
const SAMPLE_LINE = new RegExp(`^(${METRIC_NAME})(\\{(?:${LABEL})(?:,(?:${LABEL}))*,?\\})? ([-+]?(?:[0-9]*\\.?[0-9]+(?:[eE][+-]?[0-9]+)?|[nN][aA][nN]|[iI][nN][fF]))( -?[0-9]+)?$`);
const HELP_LINE = new RegExp(`^# HELP ${METRIC_NAME} .*$`);
const TYPE_LINE = new RegExp(`^# TYPE ${METRIC_NAME} (counter|gauge|histogram|summary|untyped)$`);

/** Parses the Prometheus text exposition format strictly: every line must be HELP, TYPE or a sample. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (HELP_LINE.test(line) || TYPE_LINE.test(line)) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) throw new Error(`not a valid exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function find(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

describe('GET /metrics', () => {
  let server: TestServer;
  let metricsUrl: string;
  beforeAll(async () => {
    server = await startTestServer();
    metricsUrl = server.url.replace('/graphql', '/metrics');
  });
  afterAll(() => server.close());

  async function scrape(): Promise<Sample[]> {
    const res = await fetch(metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  }

  it('exposes the GraphQL operation histogram for the operations sent, by name and type', async () => {
    for (let i = 0; i < 3; i++) expect((await graphql(server.url, HealthStatusOnlyDocument)).errors).toBeUndefined();
    const named = await graphql(server.url, 'query DashboardProbe { health { status } }');
    expect(named.errors).toBeUndefined();

    const samples = await scrape();
    const count = find(samples, 'vigil_graphql_operation_duration_seconds_count', {
      operation_name: 'HealthStatusOnly',
      operation_type: 'query',
      outcome: 'ok',
    });
    expect(count).toHaveLength(1);
    expect(count[0]!.value).toBe(3);
    const buckets = find(samples, 'vigil_graphql_operation_duration_seconds_bucket', { operation_name: 'HealthStatusOnly', le: '+Inf' });
    expect(buckets[0]!.value).toBe(3);
    expect(find(samples, 'vigil_graphql_operation_duration_seconds_count', { operation_name: 'DashboardProbe' })[0]!.value).toBe(1);
    expect(find(samples, 'vigil_graphql_operation_duration_seconds_sum', { operation_name: 'HealthStatusOnly' })[0]!.value).toBeGreaterThan(0);
  });

  it('counts errors by code and times HTTP requests by route and status', async () => {
    const invalid = await graphql(server.url, 'query Broken { nope }');
    expect(invalid.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const samples = await scrape();
    expect(find(samples, 'vigil_graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED' })[0]!.value).toBeGreaterThanOrEqual(1);
    expect(find(samples, 'vigil_http_request_duration_seconds_count', { method: 'POST', route: '/graphql', status_code: '200' })[0]!.value).toBeGreaterThanOrEqual(4);
    expect(find(samples, 'vigil_http_request_duration_seconds_count', { method: 'POST', route: '/graphql', status_code: '400' })[0]!.value).toBeGreaterThanOrEqual(1);
  });

  it('exports the process defaults, the database pool and the counters other areas increment', async () => {
    server.services.metrics.alertsRaised.inc({ level: 'CRITICAL' });
    server.services.metrics.rateLimited.inc({ scope: 'ip' });
    server.services.metrics.backupDuration.observe({ trigger: 'MANUAL', outcome: 'SUCCEEDED' }, 3.2);
    server.services.metrics.backupSize.observe({ trigger: 'MANUAL' }, 123_456);
    const samples = await scrape();
    expect(find(samples, 'vigil_process_resident_memory_bytes')[0]!.value).toBeGreaterThan(0);
    expect(find(samples, 'vigil_nodejs_eventloop_lag_seconds')).toHaveLength(1);
    expect(find(samples, 'vigil_db_pool_max')[0]!.value).toBe(server.config.databasePoolMax);
    expect(find(samples, 'vigil_db_pool_connections', { state: 'used' })).toHaveLength(1);
    expect(find(samples, 'vigil_alerts_raised_total', { level: 'CRITICAL' })[0]!.value).toBe(1);
    expect(find(samples, 'vigil_rate_limited_requests_total', { scope: 'ip' })[0]!.value).toBe(1);
    expect(find(samples, 'vigil_backup_duration_seconds_count', { trigger: 'MANUAL', outcome: 'SUCCEEDED' })[0]!.value).toBe(1);
    expect(find(samples, 'vigil_backup_size_bytes_sum', { trigger: 'MANUAL' })[0]!.value).toBe(123_456);
  });

  it('counts open websocket connections and active subscriptions, and counts them down when they end', async () => {
    const client = wsClient(server.wsUrl);
    const events = subscribe(client, HealthChangedDocument);
    try {
      await events.next();
      let samples = await scrape();
      expect(find(samples, 'vigil_websocket_connections')[0]!.value).toBe(1);
      expect(find(samples, 'vigil_websocket_subscriptions')[0]!.value).toBe(1);
      await events.close();
      await client.dispose();
      for (let i = 0; i < 100; i++) {
        samples = await scrape();
        if (find(samples, 'vigil_websocket_connections')[0]!.value === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(find(samples, 'vigil_websocket_connections')[0]!.value).toBe(0);
      expect(find(samples, 'vigil_websocket_subscriptions')[0]!.value).toBe(0);
    } finally {
      await events.close();
      await client.dispose();
    }
  });

  it('keeps the metrics of two servers in one process apart (one registry per server)', async () => {
    const other = await startTestServer({ redis: false });
    try {
      await graphql(other.url, 'query OnlyOnTheOther { health { status } }');
      const mine = await scrape();
      expect(find(mine, 'vigil_graphql_operation_duration_seconds_count', { operation_name: 'OnlyOnTheOther' })).toHaveLength(0);
      const theirs = parseExposition(await (await fetch(other.url.replace('/graphql', '/metrics'))).text());
      expect(find(theirs, 'vigil_graphql_operation_duration_seconds_count', { operation_name: 'OnlyOnTheOther' })[0]!.value).toBe(1);
    } finally {
      await other.close();
    }
  });
});

describe('GET /metrics behind VIGIL_METRICS_TOKEN', () => {
  const token = 'scrape-token-0123456789abcdef';
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ redis: false, env: { VIGIL_METRICS_TOKEN: token } });
  });
  afterAll(() => server.close());

  it('answers 401 without the token or with a wrong one, and the metrics with it', async () => {
    const url = server.url.replace('/graphql', '/metrics');
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(parseExposition(await ok.text()).length).toBeGreaterThan(10);
  });
});
