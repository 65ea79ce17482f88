/**
 * The instructor's class, kept in a folder of its own (the state directory's `class-host/`), so
 * that a host that restarts picks the class up where it was: `class.json` (the class, its
 * tokens, the roster, the room's messages; rewritten durably on each change), `key.pem` and
 * `cert.pem` (the class's certificate, made once), and `events.jsonl` (every accepted event,
 * appended and synced before it is acknowledged: a student's event the host acknowledged
 * survives a crash of the host). Files are readable by their owner only.
 *
 * Student tokens are kept as SHA-256 hashes; a token is kept in clear only until its student
 * picked it up (its first authenticated message).
 */
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { appendFile, mkdir, open, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generate } from 'selfsigned';
import { ApiError } from '../errors';
import type { ClassStudentState } from '../api/class';
import type { CatchUp, ClassEvent } from './protocol';
import { Ledger } from './protocol';
import type { ClassInfo, RosterEntry } from './dashboard';
import { studentSeed } from './seed';

export interface StoredStudent extends RosterEntry {
  /** SHA-256 of the nonce the student's MicroLab joined with (hex). */
  nonceHash: string;
  /** SHA-256 of the student's token (hex), once approved. */
  tokenHash?: string;
  /** The token in clear, until the student picked it up. */
  unclaimed?: string;
}

export interface ClassFile {
  version: 1;
  class: ClassInfo & { interface: string };
  /** Lets a student ask to join (it is in the join code). */
  classToken: string;
  /** The instructor's dashboard token. */
  instructorToken: string;
  /**
   * The class secret (base64url, 32 random bytes): each student's seed is HMAC-SHA-256 of their
   * key under it (seed.ts). Never sent; a class from before it gets one when opened.
   */
  seedSecret?: string;
  /** SHA-256 of the certificate's DER bytes, hex. */
  fingerprint: string;
  students: StoredStudent[];
  messages: { at: string; text: string }[];
  /** The labs released to the class, in order (absent in a class made before labs were released). */
  released?: string[];
  /** The catch-up suggestions made, oldest first. */
  catchUps?: StoredCatchUp[];
}

/** A catch-up suggestion as the host keeps it: who accepted it, when (student key -> ISO time). */
export interface StoredCatchUp extends Omit<CatchUp, 'accepted'> {
  accepted: Record<string, string>;
}

/** class.json in `dir`, parsed; undefined when there is none. Throws the file system's other errors. */
async function readClassFile(dir: string): Promise<ClassFile | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'class.json'), 'utf8')) as ClassFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The SHA-256 fingerprint of a PEM certificate: 64 lowercase hex digits. */
export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase();
}

export class ClassStore {
  readonly ledger = new Ledger();
  data!: ClassFile;
  key!: string;
  cert!: string;
  private saveQueue: Promise<void> = Promise.resolve();

  constructor(readonly dir: string) {}

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  /** class.json of this folder, undefined when there is none; one of another MicroLab is refused. */
  private async readOwn(): Promise<ClassFile | undefined> {
    const data = await readClassFile(this.dir);
    if (data && data.version !== 1)
      throw new ApiError('class-store', `${this.file('class.json')}: not a class of this MicroLab`);
    return data;
  }

  /** The class in the folder, if one is there and has not ended. */
  async open(): Promise<boolean> {
    const data = await this.readOwn();
    if (!data || data.class.ended) return false;
    this.data = data;
    this.key = await readFile(this.file('key.pem'), 'utf8');
    this.cert = await readFile(this.file('cert.pem'), 'utf8');
    if (!data.seedSecret) {
      data.seedSecret = newToken();
      await this.save();
    }
    await this.replay();
    return true;
  }

  /**
   * The class's record as it stands, read only (an ended class too: its report is wanted
   * after the class): class.json and every accepted event. False when the folder holds none.
   */
  async readRecord(): Promise<boolean> {
    const data = await this.readOwn();
    if (!data) return false;
    this.data = data;
    await this.replay();
    return true;
  }

  /** A new class on `address`:`port` of `iface`: a certificate for that address, new tokens. */
  async create(iface: string, address: string, port: number, autoApprove: boolean): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const now = new Date();
    const cert = await generate([{ name: 'commonName', value: `MicroLab class ${address}` }], {
      keyType: 'ec',
      curve: 'P-256',
      notBeforeDate: new Date(now.getTime() - 3600_000),
      notAfterDate: new Date(now.getTime() + 30 * 24 * 3600_000),
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 7, ip: address }] },
      ],
    });
    this.key = cert.private;
    this.cert = cert.cert;
    await writeFile(this.file('key.pem'), this.key, { mode: 0o600 });
    await writeFile(this.file('cert.pem'), this.cert, { mode: 0o600 });
    await writeFile(this.file('events.jsonl'), '', { mode: 0o600 });
    this.data = {
      version: 1,
      class: {
        id: randomBytes(6).toString('hex'),
        createdAt: now.toISOString(),
        address,
        port,
        autoApprove,
        interface: iface,
      },
      classToken: newToken(),
      instructorToken: newToken(),
      seedSecret: newToken(),
      fingerprint: fingerprintOf(this.cert),
      students: [],
      messages: [],
      released: [],
      catchUps: [],
    };
    await this.save();
  }

  /**
   * Writes class.json durably (a file of its own, synced, renamed over the old one), one write
   * at a time: each writes the data as it is when its turn comes.
   */
  save(): Promise<void> {
    const run = this.saveQueue.then(async () => {
      const target = this.file('class.json');
      const partial = `${target}.partial`;
      const handle = await open(partial, 'w', 0o600);
      try {
        await handle.writeFile(JSON.stringify(this.data, null, 2));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(partial, target);
    });
    this.saveQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * Appends accepted events and syncs the file; resolves once they are on disk. Appends that
   * arrive while a write is under way wait for the next one and share it (one write and one
   * sync for all of them: a room of students costs a sync per round, not per event).
   */
  appendEvents(student: string, events: ClassEvent[]): Promise<void> {
    if (!events.length) return Promise.resolve();
    const lines = events.map((e) => JSON.stringify({ s: student, e })).join('\n') + '\n';
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ lines, resolve, reject });
      if (!this.writing) void this.flush();
    });
  }

  private waiting: { lines: string; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private writing = false;

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.waiting.length) {
      const group = this.waiting.splice(0);
      try {
        const handle = await open(this.file('events.jsonl'), 'a', 0o600);
        try {
          await handle.writeFile(group.map((g) => g.lines).join(''));
          await handle.datasync();
        } finally {
          await handle.close();
        }
        for (const g of group) g.resolve();
      } catch (err) {
        for (const g of group) g.reject(err);
      }
    }
    this.writing = false;
  }

  /** Reads events.jsonl into the ledger (a line cut short by a crash is the end). */
  private async replay(): Promise<void> {
    const text = await readFile(this.file('events.jsonl'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const { s, e } = JSON.parse(line) as { s: string; e: ClassEvent };
        this.ledger.accept(s, [e]);
      } catch {
        break;
      }
    }
  }

  /** A line for the host's log (never a token): `host.log` in the class's folder. */
  async log(line: string): Promise<void> {
    await appendFile(this.file('host.log'), `${new Date().toISOString()} ${line}\n`, { mode: 0o600 }).catch(
      () => undefined,
    );
  }

  /** The seed handed to student `key` (seed.ts's studentSeed under the class secret), 64 hex digits. */
  seedOf(key: string): string {
    return studentSeed(this.data.seedSecret!, key);
  }

  student(key: string): StoredStudent {
    const s = this.data.students.find((x) => x.key === key);
    if (!s)
      throw new ApiError(
        'class-no-student',
        `no student ${key} in this class`,
        `The students: ${this.data.students.map((x) => `${x.key} (${x.name})`).join(', ') || 'none yet'}.`,
      );
    return s;
  }

  /** Approves a pending student (a token of its own) or revokes one; saved before it returns. */
  async setState(key: string, state: Exclude<ClassStudentState, 'pending'>): Promise<StoredStudent> {
    const s = this.student(key);
    if (state === 'approved' && s.state === 'pending') {
      const token = newToken();
      s.tokenHash = sha256(token);
      s.unclaimed = token;
    }
    if (state === 'revoked') {
      delete s.unclaimed;
      delete s.tokenHash;
    }
    if (s.state !== 'revoked') s.state = state;
    await this.save();
    return s;
  }
}

/** A student of a class and the seed they were handed: what the per-student answer key needs. */
export interface SeededStudent {
  key: string;
  name: string;
  id?: string;
  seed: string;
}

/**
 * The students of the class kept in `dir` (ended or not) with their seeds, approved or revoked
 * (a revoked student may have deployed before), pending ones left out; undefined when no class
 * is kept there or it has no class secret yet. Throws the file system's error otherwise.
 */
export async function seededStudents(
  dir: string,
): Promise<{ classId: string; students: SeededStudent[] } | undefined> {
  const data = await readClassFile(dir);
  if (data?.version !== 1 || !data.seedSecret) return undefined;
  const secret = data.seedSecret;
  return {
    classId: data.class.id,
    students: data.students
      .filter((s) => s.state !== 'pending')
      .map((s) => ({
        key: s.key,
        name: s.name,
        ...(s.id ? { id: s.id } : {}),
        seed: studentSeed(secret, s.key),
      })),
  };
}
