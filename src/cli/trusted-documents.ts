import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildManifest } from '../protection/trusted-documents';
import { UI_OPERATIONS } from '../ui/shared/operations';

const ROOT = path.resolve(__dirname, '../..');
/** The client operations, as codegen reads them. */
const OPERATIONS_DIR = path.join(ROOT, 'test/operations');
/** The manifest `VIGIL_TRUSTED_DOCUMENTS=allow-listed` loads by default. */
const MANIFEST_FILE = path.join(ROOT, 'trusted-documents.json');

/**
 * Writes `trusted-documents.json`: sha256 of each client operation's text → that text, for the
 * client operations codegen reads and the operations of the built-in IDE sign-in and console.
 */
async function main(): Promise<number> {
  const files = (await readdir(OPERATIONS_DIR)).filter((f) => f.endsWith('.graphql')).sort();
  const sources = await Promise.all(files.map((f) => readFile(path.join(OPERATIONS_DIR, f), 'utf8')));
  const manifest = buildManifest([...sources, ...Object.values(UI_OPERATIONS)]);
  const sorted = Object.fromEntries(Object.entries(manifest).sort(([a], [b]) => a.localeCompare(b)));
  await writeFile(MANIFEST_FILE, `${JSON.stringify(sorted, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), MANIFEST_FILE)}: ${Object.keys(sorted).length} operations from ${files.length} files and the built-in pages`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
