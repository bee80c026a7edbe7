/**
 * An exclusive, process-wide lock file for the embedded PGlite database, which must never be
 * opened by two processes at once. A lock left by a dead process is taken over.
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { TributaryError } from '../errors.ts';

export interface FileLock {
  release(): void;
}

export function acquireFileLock(path: string, what: string): FileLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, command: process.argv.slice(1).join(' ') }));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        rmSync(path, { force: true });
        process.off('exit', release);
      };
      process.on('exit', release);
      return { release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readHolder(path);
      if (holder && isAlive(holder.pid)) {
        throw new TributaryError(`The ${what} is in use by process ${holder.pid} (${holder.command}); PGlite allows one process at a time — stop that process, or set DATABASE_URL to use PostgreSQL.`);
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new TributaryError(`Could not take the lock file ${path} for the ${what}.`);
}

function readHolder(path: string): { pid: number; command: string } | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
