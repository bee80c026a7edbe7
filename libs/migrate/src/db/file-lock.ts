/**
 * An exclusive, process-wide lock file for the embedded PGlite database, which must never be
 * opened by two processes at once. A lock appears atomically with its holder's pid in it (written
 * aside, then hard-linked into place, which fails if it exists). A lock left by a dead process is
 * taken over only under a second such file, `<lock>.takeover`, so two processes finding the same
 * stale lock never both replace it: exactly one takes it over, the other finds it held.
 */
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { TributaryError } from '../errors.ts';

export interface FileLock {
  release(): void;
}

interface Holder {
  pid: number;
  command: string;
}

/** The lock every process takes before opening the embedded database at `pgliteDir` (`what` names it in messages). */
export function lockEmbeddedDatabase(pgliteDir: string, what: string): FileLock {
  mkdirSync(dirname(pgliteDir), { recursive: true });
  return acquireFileLock(`${pgliteDir}.lock`, what);
}

export function acquireFileLock(path: string, what: string): FileLock {
  const me: Holder = { pid: process.pid, command: process.argv.slice(1).join(' ') };
  for (let attempt = 0; attempt < 100; attempt++) {
    if (createExclusive(path, me)) return held(path);
    const holder = readHolder(path);
    if (holder === 'missing') continue; // released just now: try again at once
    if (holder && isAlive(holder.pid)) {
      throw new TributaryError(`The ${what} is in use by process ${holder.pid} (${holder.command}); PGlite allows one process at a time — stop that process, or set DATABASE_URL to use PostgreSQL.`);
    }
    if (takeOver(path, me)) return held(path);
    pause(10); // another process is taking it over, or just did: look again
  }
  throw new TributaryError(`Could not take the lock file ${path} for the ${what}.`);
}

/**
 * Replaces a stale lock with ours, under the takeover file: only its creator may remove the lock
 * of a dead process, and the lock cannot change meanwhile (a live process only creates it when it
 * is missing, and a holder removes only its own), so what was read is still what is removed.
 */
function takeOver(path: string, me: Holder): boolean {
  const guard = `${path}.takeover`;
  if (!createExclusive(guard, me)) {
    // Left by a process killed between two system calls of a takeover: clear it for the next attempt.
    const taker = readHolder(guard);
    if (typeof taker === 'object' && !isAlive(taker.pid)) rmSync(guard, { force: true });
    return false;
  }
  try {
    const holder = readHolder(path);
    if (typeof holder === 'object' && isAlive(holder.pid)) return false; // taken over before we got here
    rmSync(path, { force: true });
    return createExclusive(path, me);
  } finally {
    rmSync(guard, { force: true });
  }
}

/** Creates `path` holding `holder`, complete from its first instant; false if it exists. */
function createExclusive(path: string, holder: Holder): boolean {
  const content = JSON.stringify(holder);
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(aside, content);
  try {
    linkSync(aside, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
    return createExclusiveWithoutLinks(path, content); // a file system without hard links
  } finally {
    rmSync(aside, { force: true });
  }
}

function createExclusiveWithoutLinks(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  writeSync(fd, content);
  closeSync(fd);
  return true;
}

function held(path: string): FileLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    rmSync(path, { force: true });
    process.off('exit', release);
  };
  process.on('exit', release);
  return { release };
}

/** The holder named in a lock file; `missing` when there is none, undefined when unreadable. */
function readHolder(path: string): Holder | 'missing' | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : undefined;
  }
  try {
    const holder = JSON.parse(text);
    return Number.isInteger(holder?.pid) ? holder : undefined;
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

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
