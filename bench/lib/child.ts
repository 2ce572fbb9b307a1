import { spawn, type ChildProcess } from 'node:child_process';

/** A server process started for a scenario. */
export interface ChildServer {
  pid: number;
  stop(): Promise<void>;
}

/**
 * V8 flags of every server process (Vigil and its peers alike). A larger young generation: with
 * 50 requests in flight, each allocating rows and result objects that live across a few ticks, the
 * default 16 MB semi-space promotes most of them to the old generation and garbage collection
 * took about a fifth of Vigil's CPU time (bench/README.md). Recommended for production too.
 */
export const SERVER_NODE_FLAGS = ['--max-semi-space-size=64'];

/** Starts a Node process (with {@link SERVER_NODE_FLAGS}) and resolves once it prints `READY` (or rejects with its output). */
export function startChild(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<ChildServer> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(command, [...SERVER_NODE_FLAGS, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} did not become ready in ${timeoutMs} ms:\n${output.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/^READY$/m.test(output)) {
        clearTimeout(timer);
        resolve({
          pid: child.pid!,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), 5000).unref();
            }),
        });
      }
      if (output.length > 100_000) output = output.slice(-50_000);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready:\n${output.slice(-2000)}`));
    });
  });
}
