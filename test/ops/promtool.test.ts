import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { PROMTOOL, RULES_FILE, RULES_TEST_FILE, dashboard, ruleExpressions, seriesUsed } from './ops-files';

const run = promisify(execFile);

describe('ops/: Prometheus rules and the Grafana dashboard', () => {
  beforeAll(() => {
    if (!existsSync(PROMTOOL)) throw new Error(`promtool is not installed at ${PROMTOOL}: apt-get install -y prometheus (or set PROMTOOL)`);
  });

  it('promtool check rules accepts the rules', async () => {
    const { stdout } = await run(PROMTOOL, ['check', 'rules', RULES_FILE]);
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('promtool test rules: every alert fires on its synthetic series and stays quiet otherwise', async () => {
    const { stdout } = await run(PROMTOOL, ['test', 'rules', RULES_TEST_FILE]);
    expect(stdout).toContain('SUCCESS');
  });

  it('has an alert for error rate, latency, components down, stale backups, a broken audit chain, rate-limit refusals and websocket disconnects, each tested', async () => {
    const { readFileSync } = await import('node:fs');
    const rules = readFileSync(RULES_FILE, 'utf8');
    const tests = readFileSync(RULES_TEST_FILE, 'utf8');
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
    expect(alerts).toEqual(
      expect.arrayContaining([
        'VigilHighErrorRate',
        'VigilHighLatencyP95',
        'VigilHealthComponentDown',
        'VigilBackupStale',
        'VigilAuditChainBroken',
        'VigilRateLimitSpike',
        'VigilWebsocketDisconnectStorm',
      ]),
    );
    for (const alert of alerts) expect(tests).toContain(`alertname: ${alert}`);
  });

  it('the dashboard: every panel queries the chosen data source and reads a gateway series', () => {
    const { panels } = dashboard();
    expect(panels.length).toBeGreaterThanOrEqual(10);
    for (const panel of panels) {
      expect(panel.datasource?.uid).toBe('${datasource}');
      expect(panel.targets.length).toBeGreaterThan(0);
      for (const target of panel.targets) expect(target.expr).toMatch(/\bvigil_/);
    }
  });

  it('reads the expressions of every rule', () => {
    expect(ruleExpressions().length).toBe(16);
    expect(seriesUsed().rules).toEqual(
      expect.arrayContaining(['vigil_health_component_status', 'vigil_backup_last_success_timestamp_seconds', 'vigil_audit_chain_ok', 'vigil_websocket_disconnects_total']),
    );
  });
});
