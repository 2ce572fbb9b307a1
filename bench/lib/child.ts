import { spawn, type ChildProcess } from 'node:child_process';

/** A server process started for a scenario. */
export interface ChildServer {
  pid: number;
  stop(): Promise<void>;
}

/** Starts a process and resolves once it prints `READY` (or rejects with its output). */
export function startChild(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<ChildServer> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
