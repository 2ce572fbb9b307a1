import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { findFreePort } from '../../src/infra/net';
import { TEST_JWT_SECRET } from './server';

/** The repository root. */
export const ROOT = path.resolve(__dirname, '..', '..');

/** The line the gateway logs once it accepts requests (src/main.ts). */
const SERVING = 'Vigil is serving';

/** How {@link spawnGateway} starts the process. */
export interface GatewayProcessOptions {
  /**
   * Settings for the process. It sees only these, PATH, HOME, PORT and a test signing key
   * (`VIGIL_JWT_SECRET`, overridable): nothing else of the test's environment leaks in.
   */
  env?: Record<string, string>;
  /** @default a free loopback port */
  port?: number;
  /**
   * The command and its arguments.
   * @default [process.execPath, '-r', '@swc-node/register', '<root>/src/main.ts'] // the sources, no build needed
   */
  command?: [string, ...string[]];
  /** @default the repository root */
  cwd?: string;
  /** How long {@link GatewayProcess.serving} waits before it kills the process and rejects. @default 120_000 */
  timeoutMs?: number;
}

/** A gateway running as a process of its own, as `npm start` runs it. */
export interface GatewayProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  /** `http://127.0.0.1:<port>/graphql` */
  url: string;
  /** Everything written to stdout and stderr so far, interleaved as it came. */
  output(): string;
  /** What was written to stderr so far. */
  stderr(): string;
  /** Resolves when the process logs that it serves; rejects if it exits first or times out (then it is SIGKILLed). */
  serving: Promise<void>;
  /** The exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Sends `signal` (SIGTERM by default) unless the process already ended, then resolves its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the gateway process and returns at once: await {@link GatewayProcess.serving} before talking to it. */
export async function spawnGateway(options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  const port = options.port ?? (await findFreePort());
  const [command, ...args] = options.command ?? [process.execPath, '-r', '@swc-node/register', path.join(ROOT, 'src', 'main.ts')];
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), VIGIL_JWT_SECRET: TEST_JWT_SECRET, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const timeoutMs = options.timeoutMs ?? 120_000;
  const serving = new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (!output.includes(SERVING)) return;
      settle();
      resolve();
    }, 50);
    const limit = setTimeout(() => {
      settle();
      child.kill('SIGKILL');
      reject(new Error(`the gateway did not serve within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      settle();
      reject(new Error(`the gateway exited with ${code ?? signal} before serving:\n${output}`));
    };
    const settle = () => {
      clearInterval(check);
      clearTimeout(limit);
      child.off('exit', onExit);
    };
    child.once('exit', onExit);
  });
  // A caller that expects the process to fail (a port in use) never awaits `serving`.
  serving.catch(() => undefined);
  return {
    child,
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}/graphql`,
    output: () => output,
    stderr: () => stderr,
    serving,
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Starts the gateway process and resolves once it serves. */
export async function startGatewayProcess(options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  const gateway = await spawnGateway(options);
  await gateway.serving;
  return gateway;
}
