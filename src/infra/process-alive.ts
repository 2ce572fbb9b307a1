/**
 * Whether a process with this id exists: signal 0 checks without sending anything. A process of
 * another user (EPERM, e.g. the embedded PostgreSQL run as `postgres` when Vigil runs as root)
 * counts as alive. A zombie that its parent has not reaped yet counts as alive too.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
