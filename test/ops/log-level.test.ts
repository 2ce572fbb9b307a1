import { createLogger } from '../../src/infra/logger';
import { Role } from '../../src/permissions/roles';
import { RaiseAlertDocument } from '../generated/graphql';
import { tokenFor } from '../helpers/auth';
import { graphql } from '../helpers/clients';
import { CapturedLog } from '../helpers/captured-log';
import { startTestServer, type TestServer } from '../helpers/server';


/** How many times the JSON object on `line` names `level` at its top level (JSON.parse keeps only the last). */
function levelKeys(line: string): number {
  let depth = 0;
  let count = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1 && line.slice(i, j + 2) === '"level":') count++;
      i = j;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return count;
}

describe('log lines have one level', () => {
  const out = new CapturedLog();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ logger: createLogger('info', out), env: { LOG_LEVEL: 'info', VIGIL_ALERT_LOG_MIN_LEVEL: 'INFO' } });
  });
  afterAll(() => server.close());

  it('writes an alert with pino’s level and the alert’s level under alertLevel', async () => {
    const token = await tokenFor(server, Role.ADMIN);
    const res = await graphql(server.url, RaiseAlertDocument, { input: { level: 'WARNING', title: 'one level per line' } }, { token });
    expect(res.errors).toBeUndefined();
    const deadline = Date.now() + 10_000;
    let line: string | undefined;
    while (!line && Date.now() < deadline) {
      line = out.text.split('\n').find((l) => l.includes('one level per line') && l.includes('"alertLevel"'));
      if (!line) await new Promise((r) => setTimeout(r, 20));
    }
    expect(line).toBeDefined();
    expect(levelKeys(line!)).toBe(1);
    expect(JSON.parse(line!)).toMatchObject({ level: 'warn', alertLevel: 'WARNING' });
  });

  it('keeps a caller’s own level field under payloadLevel', () => {
    const sink = new CapturedLog();
    createLogger('info', sink).info({ level: 'CRITICAL', other: 1 }, 'stray level');
    expect(levelKeys(sink.text)).toBe(1);
    expect(JSON.parse(sink.text)).toMatchObject({ level: 'info', payloadLevel: 'CRITICAL', other: 1 });
  });

  it('writes every line of a whole server run with exactly one level key', () => {
    const lines = out.text.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.filter((l) => levelKeys(l) !== 1)).toEqual([]);
  });
});
