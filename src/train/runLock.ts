import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { errnoCode, ioError } from '../util/ioError.js';

/** What a lock file holds: who owns the run directory. */
const ownerSchema = z.object({ pid: z.number().int().min(1), host: z.string(), command: z.string().optional(), since: z.string().optional() });
type Owner = z.infer<typeof ownerSchema>;

/** Another process owns the run directory (exit 2, as any bad input). */
export class RunDirectoryInUse extends InputError {}

/** Attempts before giving up when other processes keep taking and breaking the lock. */
const ATTEMPTS = 5;

/**
 * Exclusive ownership of a run directory by one training process (`dlt train`,
 * `dlt resume`): a lock file holding the owner's pid and host, created with O_EXCL so
 * that of two processes exactly one succeeds. It is removed when the owner exits —
 * normally, with an error, or on a signal (process 'exit'). A lock left by a process
 * that was killed (SIGKILL, a crash of the machine) is stale: its pid is gone on this host, and the next owner breaks it.
 * A lock from another host cannot be checked and is never broken. Readers (eval,
 * inspect, plot) take no lock.
 */
export class RunLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(
    readonly file: string,
    private readonly owner: Owner,
  ) {
    process.on('exit', this.onExit);
  }

  /** Take the lock, or throw an InputError naming the process that holds it. */
  static acquire(file: string, command: string): RunLock {
    const owner: Owner = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (tryCreate(file, owner)) return new RunLock(file, owner);
      const holder = readOwner(file);
      if (holder === 'gone') continue; // released between our attempt and the read
      if (holder === 'unreadable') {
        throw new InputError(
          'the lock file is damaged, so dlt cannot tell who owns this run directory; if no dlt is training in it, remove the file',
          file,
        );
      }
      if (holder.host !== owner.host || isAlive(holder.pid)) {
        const who = [holder.command && `dlt ${holder.command}`, holder.since && `since ${holder.since}`].filter(Boolean).join(', ');
        throw new RunDirectoryInUse(
          `run directory in use by pid ${holder.pid} on ${holder.host}${who ? ` (${who})` : ''}; wait for it to finish or stop it (if that process is not dlt, remove the lock file ${file})`,
          path.dirname(file),
        );
      }
      breakStale(file, holder);
    }
    throw new InputError(`could not take the lock: other processes kept taking it; try again`, file);
  }

  /** Remove the lock file, if it is still ours. Safe to call more than once. */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    try {
      const holder = readOwner(this.file);
      if (holder !== 'gone' && holder !== 'unreadable' && holder.pid === this.owner.pid && holder.host === this.owner.host) unlinkSync(this.file);
    } catch {
      // the folder went away or became unreadable: nothing left to release, and a
      // release (also run as the process exits) must not turn into an error of its own
    }
  }
}

/**
 * Create the lock file holding `owner`; false when one exists. The content is written to
 * a file of our own first and linked into place (link fails when the name is taken), so
 * a lock file is never seen empty or half written.
 */
function tryCreate(file: string, owner: Owner): boolean {
  // Named like the atomic writer's temporary files, so that a crash leaves nothing a resume does not clean up.
  const draft = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(draft, `${JSON.stringify(owner)}\n`, { flag: 'wx', flush: true });
    linkSync(draft, file);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw ioError(err, 'create the lock file', file);
  } finally {
    rmSync(draft, { force: true });
  }
}

/** Who holds the lock: 'gone' when the file has disappeared, 'unreadable' when it is not a lock file dlt wrote. */
function readOwner(file: string): Owner | 'gone' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'gone';
    throw ioError(err, 'read the lock file', file);
  }
  try {
    const owner = ownerSchema.safeParse(JSON.parse(text));
    return owner.success ? owner.data : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM'; // alive, but another user's
  }
}

/**
 * Remove a stale lock. Renamed aside first, since rename is atomic: of two processes
 * breaking the same lock, one renames it and the other finds it gone. If what was
 * renamed is not the stale lock seen (a third process took the lock meanwhile), it is
 * put back with link(), which fails rather than replace a newer lock.
 */
function breakStale(file: string, seen: Owner): void {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw ioError(err, 'remove the stale lock file', file);
  }
  const moved = readOwner(aside);
  const same = moved !== 'gone' && moved !== 'unreadable' && moved.pid === seen.pid && moved.host === seen.host;
  if (!same) {
    try {
      linkSync(aside, file);
    } catch {
      // a newer lock is in place: it stands, and the one we moved is its predecessor
    }
  }
  unlinkSync(aside);
}
