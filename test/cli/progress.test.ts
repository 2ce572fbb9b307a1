import { PassThrough } from 'node:stream';
import { createProgress } from '../../src/cli/progress';

function capture(tty: boolean) {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  stream.isTTY = tty;
  stream.columns = 100;
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { stream: stream as unknown as NodeJS.WriteStream, output: () => text };
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');

describe('createProgress without a terminal (logs, pipes, CI)', () => {
  it('prints one plain line per tenth of a known total, then done', () => {
    const { stream, output } = capture(false);
    const progress = createProgress('seeding investigations', 20, { stream });
    for (let i = 1; i <= 20; i++) progress.update(i, `#${i}`);
    progress.done();
    const lines = output().trim().split('\n');
    expect(lines[0]).toBe('seeding investigations: 1/20 (5%) #1');
    expect(lines).toContain('seeding investigations: 10/20 (50%) #10');
    expect(lines.at(-1)).toBe('seeding investigations: done 20/20');
    expect(lines).toHaveLength(11);
    expect(output()).not.toContain('\u001b');
  });

  it('prints every update of an unknown total, and where it failed', () => {
    const { stream, output } = capture(false);
    const progress = createProgress('copying tables', undefined, { stream });
    progress.update(1, 'users');
    progress.update(2, 'alerts');
    progress.fail('disk full');
    progress.update(3, 'ignored after the end');
    expect(output()).toBe('copying tables: 1 users\ncopying tables: 2 alerts\ncopying tables: failed at 2: disk full\n');
  });

  it('reports a failure with its percentage and ignores a second ending', () => {
    const { stream, output } = capture(false);
    const progress = createProgress('restoring', 4, { stream });
    progress.update(1);
    progress.fail('checksum mismatch');
    progress.done();
    expect(output()).toBe('restoring: 1/4 (25%)\nrestoring: failed at 1/4 (25%): checksum mismatch\n');
  });
});

describe('createProgress on a terminal', () => {
  it('draws a bar that ends at its total', () => {
    const { stream, output } = capture(true);
    const progress = createProgress('seeding', 4, { stream });
    progress.update(2, 'half');
    progress.done();
    const text = stripAnsi(output());
    expect(text).toContain('seeding [');
    expect(text).toMatch(/100% \| 4\/4 done/);
  });
});
