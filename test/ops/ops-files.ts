import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The repository's ops/ directory. */
export const OPS_DIR = path.resolve(__dirname, '..', '..', 'ops');
export const RULES_FILE = path.join(OPS_DIR, 'prometheus', 'vigil.rules.yml');
export const RULES_TEST_FILE = path.join(OPS_DIR, 'prometheus', 'vigil.rules.test.yml');
export const DASHBOARD_FILE = path.join(OPS_DIR, 'grafana', 'vigil-dashboard.json');

/** Debian's `prometheus` package puts promtool and prometheus here; PROMTOOL / PROMETHEUS override. */
export const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';
export const PROMETHEUS = process.env.PROMETHEUS ?? '/usr/bin/prometheus';

interface Dashboard {
  panels: { title: string; datasource?: { uid?: string }; targets: { expr: string }[] }[];
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
}

/** The PromQL expressions of the rules file (`expr:` values, block scalars included). */
export function ruleExpressions(): string[] {
  const lines = readFileSync(RULES_FILE, 'utf8').split('\n');
  const exprs: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    if (m[2] !== '|' && m[2] !== '>') {
      exprs.push(m[2]!);
      continue;
    }
    const block: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || lines[i + 1]!.search(/\S/) > m[1]!.length)) block.push(lines[++i]!.trim());
    exprs.push(block.join(' '));
  }
  return exprs;
}

/** The gateway's series (names starting `vigil_`) that an expression reads. */
export function seriesIn(expr: string): string[] {
  return [...new Set(expr.match(/\bvigil_[a-z0-9_]+/g) ?? [])];
}

/** Every gateway series the rules and the dashboard read. */
export function seriesUsed(): { rules: string[]; dashboard: string[] } {
  return {
    rules: [...new Set(ruleExpressions().flatMap(seriesIn))].sort(),
    dashboard: [...new Set(dashboard().panels.flatMap((p) => p.targets.flatMap((t) => seriesIn(t.expr))))].sort(),
  };
}
