import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { loadConfig } from '../../src/config';

const file = path.join(__dirname, '../../.env.example');

/** What bash sees after `set -a; . .env.example`, limited to the file's own names. */
function sourcedByBash(names: string[]): Record<string, string> {
  const out = execFileSync('bash', ['-c', 'set -euo pipefail; set -a; . "$1"; set +a; env -0', 'bash', file], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    encoding: 'utf8',
  });
  const all = Object.fromEntries(
    out
      .split('\0')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return Object.fromEntries(names.map((n) => [n, all[n] ?? '']));
}

describe('.env.example', () => {
  const parsed = parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
  const names = Object.keys(parsed);

  it('is read the same by bash (`source`) and by Node (`--env-file`)', () => {
    expect(names.length).toBeGreaterThan(20);
    expect(sourcedByBash(names)).toEqual(parsed);
  });

  it('keeps cron values whole (sourcing it runs no command)', () => {
    const bash = sourcedByBash(names);
    for (const name of names.filter((n) => n.endsWith('_SCHEDULE') && parsed[n] !== 'off')) {
      expect(bash[name]!.split(' ')).toHaveLength(5);
    }
  });

  it('is a valid configuration as it stands', () => {
    expect(() => loadConfig(parsed)).not.toThrow();
  });
});
