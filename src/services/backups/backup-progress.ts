import { Backup } from '../../entities/backup.entity';
import { NotFoundError } from '../../errors';
import type { EntityManager, MikroORM } from '../../infra/db';
import { isUuid } from '../../infra/ids';
import type { QueueLimit, VigilPubSub } from '../../infra/pubsub';
import { BackupStatus } from '../../schema/backup.enums';
import { BACKUP_EVENTS, type BackupProgressEvent } from './backup-events';

const PROGRESS_RECHECK_MS = 2_000;

/** The progress of a backup as its row tells it now (a running one reads as STARTING); null for an unknown id. */
export async function backupProgressNow(em: EntityManager, id: string): Promise<BackupProgressEvent | null> {
  if (!isUuid(id)) return null;
  const backup = await em.findOne(Backup, { id });
  if (!backup) return null;
  return {
    id,
    phase: backup.status === BackupStatus.RUNNING ? 'STARTING' : backup.status === BackupStatus.SUCCEEDED ? 'DONE' : 'FAILED',
    bytesWritten: backup.sizeBytes ?? 0,
    status: backup.status,
    error: backup.error ?? null,
  };
}

/**
 * Progress of one backup: the current state first, then every change until it ends (SUCCEEDED or
 * FAILED), after which the stream completes. A consumer more than `limit.maxQueue` events behind
 * is cut off.
 */
export async function* backupProgress(orm: MikroORM, pubsub: VigilPubSub, id: string, limit: QueueLimit): AsyncGenerator<BackupProgressEvent> {
  if (!isUuid(id)) throw new NotFoundError('Backup', id);
  const iterator = pubsub.subscribe<BackupProgressEvent>(BACKUP_EVENTS.PROGRESS, id, limit);
  try {
    const stateOf = async (): Promise<BackupProgressEvent> => {
      const state = await backupProgressNow(orm.em.fork(), id);
      if (!state) throw new NotFoundError('Backup', id);
      return state;
    };
    const current = await stateOf();
    yield current;
    if (current.status !== BackupStatus.RUNNING) return;
    let pending = iterator.next();
    for (;;) {
      // A Redis subscription starts asynchronously, so the final event may slip past it: the row
      // is re-read now and then, and its end state closes the stream either way.
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<'tick'>((resolve) => {
        timer = setTimeout(() => resolve('tick'), PROGRESS_RECHECK_MS);
      });
      const next = await Promise.race([pending, tick]).finally(() => clearTimeout(timer));
      if (next === 'tick') {
        const state = await stateOf();
        if (state.status !== BackupStatus.RUNNING) {
          yield state;
          return;
        }
        continue;
      }
      if (next.done) return;
      yield next.value;
      if (next.value.status !== BackupStatus.RUNNING) return;
      pending = iterator.next();
    }
  } finally {
    await iterator.return?.();
  }
}
