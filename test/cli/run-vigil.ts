import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TEST_JWT_SECRET } from '../helpers/server';

/** The `vigil` executable, as operators run it. */
export const VIGIL_BIN = path.resolve(__dirname, '..', '..', 'bin', 'vigil.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `bin/vigil.js` in a child process with only the settings given (plus a private
 * data directory and a signing key), stdin closed and stdout/stderr piped, so not on a terminal.
 */
export function runVigil(args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<CliResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'vigil-cli-'));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VIGIL_BIN, ...args], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? tmpdir(),
        NODE_ENV: 'test',
        VIGIL_DATA_DIR: dataDir,
        VIGIL_JWT_SECRET: TEST_JWT_SECRET,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vigil ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, stdout, stderr });
    });
  });
}

/** Non-empty lines of an output. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}
