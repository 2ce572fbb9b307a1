import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Loads `.env` from the working directory into the environment when the file exists (Node's own
 * parser, `process.loadEnvFile`). Variables already set in the environment win over the file, so an
 * operator's `PORT=4001 npm start` still applies. Returns the file's path, or undefined without one.
 */
export function loadEnvFile(file = path.resolve('.env')): string | undefined {
  if (!existsSync(file)) return undefined;
  process.loadEnvFile(file);
  return file;
}
