import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BackupTrigger } from '../../schema/backup.enums';

/**
 * What a backup holds and how to check it, written beside the archive as `<id>.manifest.json` and
 * mirrored in the `backup` table. The file is the source of truth: after a restore the table is
 * rebuilt from the manifests on disk.
 */
export interface BackupManifest {
  formatVersion: 1;
  id: string;
  label: string | null;
  trigger: BackupTrigger;
  startedAt: string;
  finishedAt: string;
  /** The archive's file name inside the backup directory. */
  file: string;
  format: 'pg_dump-custom';
  sizeBytes: number;
  sha256: string;
  server: { version: string; versionNum: number };
  pgDumpVersion: string;
  /** Which database the archive was taken from; a restore into another one is refused. */
  database: { name: string; systemIdentifier: string | null };
  /** The last applied migration when the snapshot was taken. */
  schemaVersion: string | null;
  /** Rows per table (`schema.table`) in the snapshot the archive was taken from. */
  rowCounts: Record<string, number>;
  /** Tables whose rows are not in the archive (the backup metadata itself). */
  excludedTableData: string[];
}

/** File names of a backup inside the backup directory. */
export function backupFiles(dir: string, id: string) {
  return {
    archive: path.join(dir, `${id}.dump`),
    partial: path.join(dir, `${id}.dump.partial`),
    manifest: path.join(dir, `${id}.manifest.json`),
  };
}

/** Writes a manifest atomically (temporary name, then rename). */
export async function writeManifest(dir: string, manifest: BackupManifest): Promise<void> {
  const file = backupFiles(dir, manifest.id).manifest;
  await writeFile(`${file}.partial`, `${JSON.stringify(manifest, null, 2)}\n`, { flush: true });
  await rename(`${file}.partial`, file);
}

/** Reads a manifest; null when the file is missing or not a manifest. */
export async function readManifest(file: string): Promise<BackupManifest | null> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<BackupManifest>;
    if (
      value.formatVersion === 1 &&
      typeof value.id === 'string' &&
      typeof value.sha256 === 'string' &&
      typeof value.sizeBytes === 'number' &&
      typeof value.file === 'string' &&
      value.database &&
      value.rowCounts
    ) {
      return value as BackupManifest;
    }
    return null;
  } catch {
    return null;
  }
}
