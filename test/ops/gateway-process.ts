import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** A gateway running as its own process, the way `npm start` runs it (src/main.ts). */
export interface GatewayProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>/graphql`, from the "Vigil is serving" line. */
  url: string;
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts src/main.ts with only `env` (plus PATH and HOME) and waits until it serves. */
export async function startGatewayProcess(env: Record<string, string>, timeoutMs = 90_000): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', path.join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const timer = setInterval(() => {
      const serving = /"url":"(http:\/\/[^"]+)","msg":"Vigil is serving"/.exec(output);
      if (serving) {
        clearInterval(timer);
        resolve(serving[1]!);
      } else if (Date.now() > deadline) {
        clearInterval(timer);
        child.kill('SIGKILL');
        reject(new Error(`did not serve within ${timeoutMs} ms:\n${output}`));
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`exited with ${code} before serving:\n${output}`));
    });
  });
  return {
    child,
    url,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
