import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * An exclusive lock on a data folder. Embedded PostgreSQL has no lock of its own, and two
 * processes writing one folder silently lose committed rows, so a second start is refused.
 * The lock file holds the owner's pid and host; a lock left behind by a process that no longer
 * runs (crash, kill -9) is taken over.
 */
export class DataFolderLockedError extends Error {
  override name = 'DataFolderLockedError';
}

export interface FolderLock {
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDataFolder(dir: string): FolderLock {
  const path = join(dir, 'parley.lock');
  const me = `${process.pid}@${hostname()}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, me);
      closeSync(fd);
      return {
        release() {
          try {
            if (readFileSync(path, 'utf8') === me) unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readFileSync(path, 'utf8').trim();
      const [pid, host] = owner.split('@');
      const stale = host === hostname() && pid !== undefined && !alive(Number(pid));
      if (!stale) {
        throw new DataFolderLockedError(
          `the data folder ${dir} is in use by another Parley process (${owner}); stop it first, or start this one with another --data-dir`,
        );
      }
      unlinkSync(path);
    }
  }
  throw new DataFolderLockedError(`could not lock the data folder ${dir}`);
}
