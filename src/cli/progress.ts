import { Presets, SingleBar } from 'cli-progress';

/** The progress of one long piece of CLI work. */
export interface Progress {
  /** Sets how much is done (absolute, not an increment), optionally with what is being worked on. */
  update(done: number, detail?: string): void;
  /** Marks the work finished; a bar jumps to its total. */
  done(detail?: string): void;
  /** Marks the work failed where it stands; the caller still reports the error itself. */
  fail(detail?: string): void;
}

export interface ProgressOptions {
  /** Where progress goes; stdout stays free for results that scripts read. @default process.stderr */
  stream?: NodeJS.WriteStream;
  /** Draw a bar (true) or print plain lines (false). @default stream.isTTY */
  tty?: boolean;
}

function percent(done: number, total: number | undefined): string {
  return total ? ` (${Math.floor((done / total) * 100)}%)` : '';
}

/**
 * Shows the progress of long CLI work: a redrawn bar on a terminal, plain lines otherwise (logs,
 * pipes, CI), where a known total prints a line at every tenth and an unknown one at every update.
 * Output goes to stderr.
 *
 * @example
 * const progress = createProgress('seeding investigations', 20);
 * for (let i = 1; i <= 20; i++) { await createOne(); progress.update(i); }
 * progress.done();
 */
export function createProgress(label: string, total?: number, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? Boolean(stream.isTTY);
  let current = 0;
  let finished = false;

  if (tty) {
    const bar = new SingleBar(
      {
        stream,
        format: total
          ? `${label} [{bar}] {percentage}% | {value}/{total} {detail}`
          : `${label} {value} {detail}`,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        etaBuffer: 20,
      },
      Presets.shades_classic,
    );
    bar.start(total ?? 0, 0, { detail: '' });
    return {
      update(done, detail) {
        if (finished) return;
        current = done;
        bar.update(done, { detail: detail ?? '' });
      },
      done(detail) {
        if (finished) return;
        finished = true;
        bar.update(total ?? current, { detail: detail ?? 'done' });
        bar.stop();
      },
      fail(detail) {
        if (finished) return;
        finished = true;
        bar.update(current, { detail: `failed${detail ? `: ${detail}` : ''}` });
        bar.stop();
      },
    };
  }

  const write = (line: string) => stream.write(`${line}\n`);
  let lastTenth = -1;
  const counter = (done: number) => (total ? `${done}/${total}` : `${done}`);
  return {
    update(done, detail) {
      if (finished) return;
      current = done;
      if (total) {
        const tenth = Math.floor((done / total) * 10);
        if (tenth <= lastTenth || done >= total) return;
        lastTenth = tenth;
      }
      write(`${label}: ${counter(done)}${percent(done, total)}${detail ? ` ${detail}` : ''}`);
    },
    done(detail) {
      if (finished) return;
      finished = true;
      write(`${label}: done ${counter(total ?? current)}${detail ? ` ${detail}` : ''}`);
    },
    fail(detail) {
      if (finished) return;
      finished = true;
      write(`${label}: failed at ${counter(current)}${percent(current, total)}${detail ? `: ${detail}` : ''}`);
    },
  };
}
