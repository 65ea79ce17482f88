/**
 * The student's side of a live class: connects out to the host over TLS, and only when the
 * host's certificate has the fingerprint the join code pinned (any other certificate is refused
 * before a byte of the request is sent); asks to join, waits for the instructor's approval,
 * then sends the progress events as the progress file changes (protocol.ts: eventsFromProgress),
 * keeping what the host has not acknowledged in `join.json` beside it, so that a laptop that
 * loses the network, or a MicroLab that restarts, sends it later: nothing lost, nothing counted
 * twice. It opens no port.
 */
import { randomBytes } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { text } from 'node:stream/consumers';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { lock } from 'proper-lockfile';
import { ApiError } from '../errors';
import type { ClassJoinState } from '../api/class';
import type { Student } from '../api/contract';
import { sleep } from '../wait';
import { SEED_PATTERN } from './seed';
import type { ProgressFile } from '../labs/progress';
import {
  MAX_BATCH_EVENTS,
  Outbox,
  eventsFromProgress,
  type Acceptance,
  type CatchUp,
  type BatchAnswer,
  type ClassEvent,
  type JoinAnswer,
  type JoinCode,
} from './protocol';

/** A `join.lock` whose holder has not touched it for this long is taken over (it died), ms. */
export const JOIN_LOCK_STALE_MS = 10_000;

/** A request to the host gives up after this long, ms. */
export const REQUEST_TIMEOUT_MS = 10_000;

interface JoinFile {
  version: 1;
  code: JoinCode;
  nonce: string;
  student?: string;
  token?: string;
  /** The seed the host handed on approval (seed.ts): the student's per-student values derive from it. */
  seed?: string;
  ended?: boolean;
  messagesSeen: number;
  outbox: { pending: ClassEvent[]; acked: string[] };
  /** The host's latest word: the room's messages, the labs released, the catch-up suggestions. */
  messages?: { at: string; text: string }[];
  released?: string[];
  catchUps?: CatchUp[];
}

export interface DoctorResult {
  ready: boolean;
  failing: string[];
}

export interface ClassClientOptions {
  /** The folder of the student's class state (`join.json`). */
  dir: string;
  /** The student's progress file (labs/progress.json), read, never written. */
  progressFile: string;
  student: Student;
  /** The laptop's doctor, run once on joining; its result is sent. */
  doctor?: () => Promise<DoctorResult>;
  /** Told of the room's messages, of approval and of the network coming and going. */
  onNotice?: (line: string) => void;
  /** How often the progress file is read, ms (default 1000). */
  intervalMs?: number;
  /** Called after each round of `run` (sent or not): what `status()` says may have changed. */
  onRound?: () => void;
}

/** Opens a TLS connection and checks the host's certificate against the pinned fingerprint. */
function pinnedSocket(code: JoinCode): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    // The certificate is self-signed: trust comes from the pinned fingerprint, checked below
    // before anything is written.
    const socket = connect({ host: code.host, port: code.port, rejectUnauthorized: false });
    socket.setTimeout(REQUEST_TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const got = (socket.getPeerCertificate().fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
      if (got !== code.fingerprint) {
        socket.destroy();
        reject(
          new ApiError(
            'class-certificate-mismatch',
            `the server at ${code.host}:${code.port} shows a certificate (SHA-256 ${got.slice(0, 16)}...) that is not the class's (${code.fingerprint.slice(0, 16)}...): refused, nothing sent`,
            'Ask the instructor for the join code of the class running now.',
          ),
        );
        return;
      }
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

/** An HTTP error answer from the host, with its status. */
export class HostAnswerError extends ApiError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(status === 401 || status === 403 ? 'class-refused' : 'class-host-error', message);
  }
}

/** POSTs a JSON body over a pinned connection; resolves the JSON answer of a 200. */
export async function post<T>(code: JoinCode, route: string, token: string, payload: unknown): Promise<T> {
  const socket = await pinnedSocket(code);
  const data = Buffer.from(JSON.stringify(payload));
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(
      {
        method: 'POST',
        path: route,
        createConnection: () => socket,
        headers: {
          host: `${code.host.includes(':') ? `[${code.host}]` : code.host}:${code.port}`,
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': data.length,
          connection: 'close',
        },
        timeout: REQUEST_TIMEOUT_MS,
      },
      resolve,
    );
    // Also while the answer is read: the request's socket goes, and reading it fails.
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(data);
  });
  const body = await text(res);
  if (res.statusCode !== 200) {
    let why = body.slice(0, 300);
    try {
      why = (JSON.parse(body) as { error?: string }).error ?? why;
    } catch {
      /* the text as it is */
    }
    throw new HostAnswerError(res.statusCode ?? 0, `the class host answered ${res.statusCode}: ${why}`);
  }
  try {
    return JSON.parse(body) as T;
  } catch {
    throw new ApiError('class-host-error', 'the class host answered something that is not JSON');
  }
}

export class ClassClient {
  private state!: JoinFile;
  private outbox!: Outbox;
  private doctorSent = false;
  /** A class taken up from a new code: kept on disk only once its host answers a join. */
  private fresh = false;

  constructor(private readonly o: ClassClientOptions) {}

  private get file(): string {
    return path.join(this.o.dir, 'join.json');
  }

  /**
   * The student's acceptances (`accepted.json`: catch-up id -> ISO time), a file of its own: a
   * `microlab class catch-up` in another process writes it while `class join` runs and reads it.
   */
  private get acceptedFile(): string {
    return path.join(this.o.dir, 'accepted.json');
  }

  private async acceptances(): Promise<Record<string, string>> {
    try {
      const data = JSON.parse(await readFile(this.acceptedFile, 'utf8')) as unknown;
      if (data && typeof data === 'object' && !Array.isArray(data)) return data as Record<string, string>;
    } catch {
      /* none yet */
    }
    return {};
  }

  /** Where this MicroLab is in its class: what the app and `class join` show. */
  status(): ClassJoinState {
    return {
      phase: this.state.ended ? 'ended' : this.state.token ? 'joined' : 'pending',
      host: this.state.code.host,
      port: this.state.code.port,
      ...(this.state.student ? { student: this.state.student } : {}),
      pending: this.outbox.size,
      messages: [...(this.state.messages ?? [])],
      released: [...(this.state.released ?? [])],
      catchUps: (this.state.catchUps ?? []).map((c) => ({ ...c })),
    };
  }

  /**
   * The host's catch-up suggestion `id` to this student. Throws ApiError `class-no-catch-up`
   * when the host made no suggestion `id` to this student.
   */
  suggestion(id: string): CatchUp {
    const c = (this.state.catchUps ?? []).find((x) => x.id === id);
    if (!c)
      throw new ApiError(
        'class-no-catch-up',
        `the instructor made no catch-up suggestion "${id.slice(0, 40)}" to you`,
        `The suggestions: ${(this.state.catchUps ?? []).map((x) => `${x.id} (${x.lab} step ${x.step})`).join(', ') || 'none yet'}.`,
      );
    return { ...c };
  }

  /**
   * Records that the student accepted catch-up suggestion `id` (in `accepted.json`, sent with
   * the next batch). Call it once the lab stands at the suggested step (`lab start LAB --step N`
   * succeeded): a start that failed is no catch-up, and the class must not count it. Returns
   * the suggestion. Throws as `suggestion` does.
   */
  async accept(id: string): Promise<CatchUp> {
    const c = this.suggestion(id);
    const accepted = await this.acceptances();
    accepted[id] ??= new Date().toISOString();
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    const partial = `${this.acceptedFile}.partial`;
    await writeFile(partial, JSON.stringify(accepted), { mode: 0o600 });
    await rename(partial, this.acceptedFile);
    return { ...c };
  }

  /**
   * Makes this process the one sending this folder's class (`class join` or the app's class
   * client; one at a time, or each would print and answer for the other): holds `join.lock` in
   * the folder, kept alive until the returned release is called (one left by a process that died
   * is taken over after JOIN_LOCK_STALE_MS). Throws ApiError `class-join-running` when another
   * process holds it.
   */
  async hold(): Promise<() => Promise<void>> {
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    const lockfilePath = path.join(this.o.dir, 'join.lock');
    return lock(this.o.dir, {
      lockfilePath,
      realpath: false,
      stale: JOIN_LOCK_STALE_MS,
      update: JOIN_LOCK_STALE_MS / 4,
      retries: 0,
      // Taken over after this process stalled past the stale time: the events stay in the outbox
      // and the acknowledgements are idempotent, so nothing is lost or counted twice.
      onCompromised: () => undefined,
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ELOCKED') throw err;
      throw new ApiError(
        'class-join-running',
        `another MicroLab process is already sending this class's progress (it holds ${lockfilePath})`,
        'Use that one (`microlab class join` in another terminal, or the app\'s "Join a class" card), or stop it first (Ctrl-C, or Leave in the app).',
      );
    });
  }

  /**
   * Takes up `code` (a new class: a new nonce and an empty outbox), or, with no code, the class
   * joined before. A new class replaces the one joined before (`join.json`, `accepted.json`) only
   * once its host answers a join: a code refused (another certificate, a wrong class token)
   * leaves the class joined before as it was. Throws ApiError `class-not-joined` when there is
   * neither.
   */
  async load(code?: JoinCode): Promise<void> {
    let saved: JoinFile | undefined;
    try {
      saved = JSON.parse(await readFile(this.file, 'utf8')) as JoinFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const same =
      saved &&
      (!code ||
        (saved.code.host === code.host &&
          saved.code.port === code.port &&
          saved.code.fingerprint === code.fingerprint));
    this.fresh = false;
    if (saved && same) this.state = saved;
    else if (code) {
      this.fresh = true;
      this.state = {
        version: 1,
        code,
        nonce: randomBytes(32).toString('base64url'),
        messagesSeen: 0,
        outbox: { pending: [], acked: [] },
      };
    } else
      throw new ApiError(
        'class-not-joined',
        'this MicroLab has joined no class',
        'Join with the code the instructor shows: `microlab class join` (it reads the code from standard input).',
      );
    this.outbox = Outbox.from(this.state.outbox);
    if (!this.fresh) await this.save();
  }

  /** The host's key for this student, once the host answered. */
  get studentKey(): string | undefined {
    return this.state.student;
  }

  /** The seed the host handed, once approved. */
  get seed(): string | undefined {
    return this.state.seed;
  }

  get pending(): number {
    return this.outbox.size;
  }

  get ended(): boolean {
    return Boolean(this.state.ended);
  }

  private async save(): Promise<void> {
    this.state.outbox = this.outbox.toJSON();
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    const partial = `${this.file}.partial`;
    const handle = await open(partial, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(this.state));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(partial, this.file);
  }

  /**
   * Asks to join until the instructor decides (every `intervalMs`, through network losses).
   * Resolves once approved; throws ApiError `class-refused` when refused or revoked,
   * `class-certificate-mismatch` when the host is not the class's, `canceled` on abort.
   */
  async join(signal?: AbortSignal): Promise<void> {
    let told = false;
    while (!this.state.token) {
      if (signal?.aborted) throw new ApiError('canceled', 'canceled');
      try {
        const answer = await post<JoinAnswer>(this.state.code, '/class/v1/join', this.state.code.token, {
          name: this.o.student.name,
          ...(this.o.student.id ? { id: this.o.student.id } : {}),
          nonce: this.state.nonce,
        });
        this.state.student = answer.student;
        if (answer.state === 'refused')
          throw new ApiError('class-refused', `the instructor refused ${answer.student} in this class`);
        if (this.fresh) {
          // The new class's host answered: it replaces the class joined before, whose
          // acceptances name suggestions (c1...) of that class only.
          await rm(this.acceptedFile, { force: true });
          await this.save();
          this.fresh = false;
        }
        if (answer.state === 'approved') {
          this.state.token = answer.token;
          if (answer.seed && SEED_PATTERN.test(answer.seed)) this.state.seed = answer.seed;
          await this.save();
          this.o.onNotice?.(`joined the class as ${answer.student}`);
          break;
        }
        if (!told) this.o.onNotice?.(`waiting for the instructor to approve ${answer.student}`);
        told = true;
      } catch (err) {
        if (err instanceof HostAnswerError && err.status === 410)
          throw new ApiError('class-ended', 'the class has ended: the host takes no more joins');
        if (err instanceof ApiError && err.code !== 'class-host-error') throw err;
        if (!(err instanceof ApiError))
          this.o.onNotice?.(`the class host is not reachable (${(err as Error).message}): trying again`);
      }
      await sleep(this.o.intervalMs ?? 1000, signal).catch(() => undefined);
    }
  }

  /**
   * One round: reads the progress file, queues what is new, sends what the host has not
   * acknowledged (in batches), records the acknowledgements. Returns how many events the host
   * acknowledged now. Throws a network error (nothing lost: the events stay queued) or ApiError
   * `class-refused` (a token revoked).
   */
  async sync(): Promise<number> {
    const progress = await readProgress(this.o.progressFile);
    let added = this.outbox.add(eventsFromProgress(progress));
    if (this.o.doctor && !this.doctorSent) {
      const result = await this.o.doctor().catch(() => ({ ready: false, failing: ['doctor could not run'] }));
      const at = new Date().toISOString();
      added += this.outbox.add([{ id: `doctor/${at}`, kind: 'doctor', at, doctor: result }]);
      this.doctorSent = true;
    }
    if (added) await this.save();
    // Acceptances the host does not show yet (it records each once).
    const accepted = await this.acceptances();
    let sendAccepted: Acceptance[] = (this.state.catchUps ?? [])
      .filter((c) => accepted[c.id] && !c.accepted)
      .map((c) => ({ id: c.id, at: accepted[c.id]! }));
    let acked = 0;
    do {
      const batch = this.outbox.batch(MAX_BATCH_EVENTS);
      const answer = await post<BatchAnswer>(this.state.code, '/class/v1/events', this.state.token ?? '', {
        events: batch,
        ...(sendAccepted.length ? { accepted: sendAccepted } : {}),
      });
      sendAccepted = [];
      this.outbox.ack(answer.acked);
      acked += answer.acked.length;
      for (const m of answer.messages.slice(this.state.messagesSeen))
        this.o.onNotice?.(`message from the instructor: ${m.text}`);
      this.state.messagesSeen = Math.max(this.state.messagesSeen, answer.messages.length);
      this.state.messages = answer.messages;
      this.state.ended = answer.ended;
      this.learn(answer);
      await this.save();
      if (!answer.acked.length) break;
    } while (this.outbox.size > 0);
    return acked;
  }

  /** Takes the released labs and catch-up suggestions from the host's answer; tells what is new. */
  private learn(answer: BatchAnswer): void {
    const known = new Set(this.state.released ?? []);
    for (const lab of answer.released ?? [])
      if (!known.has(lab)) this.o.onNotice?.(`the instructor released the lab ${lab}`);
    if (answer.released) this.state.released = answer.released;
    const seen = new Set((this.state.catchUps ?? []).map((c) => c.id));
    for (const c of answer.catchUps ?? [])
      if (!seen.has(c.id))
        this.o.onNotice?.(
          `the instructor suggests catching up to step ${c.step} of ${c.lab} (${c.id}): to accept, run \`microlab class catch-up ${c.id}\` (it runs \`microlab lab start ${c.lab} --step ${c.step}\`)`,
        );
    if (answer.catchUps) this.state.catchUps = answer.catchUps;
  }

  /**
   * Syncs every `intervalMs` until the class ends or `signal` aborts. A round that fails on the
   * network is tried again (the events wait); a refusal (token revoked) ends it with the error.
   */
  async run(signal?: AbortSignal): Promise<void> {
    let offline = false;
    while (!signal?.aborted && !this.state.ended) {
      try {
        await this.sync();
        if (offline) this.o.onNotice?.(`back online: ${this.outbox.ackedCount} events held by the host`);
        offline = false;
      } catch (err) {
        if (err instanceof ApiError && err.code === 'class-refused') throw err;
        if (err instanceof HostAnswerError && err.status === 410) {
          // The class ended (the host refuses events from then on) while this MicroLab was away.
          this.state.ended = true;
          await this.save();
          break;
        }
        if (!offline)
          this.o.onNotice?.(
            `the class host is not reachable (${(err as Error).message}): ${this.outbox.size} events wait, working on`,
          );
        offline = true;
      }
      this.o.onRound?.();
      await sleep(this.o.intervalMs ?? 1000, signal).catch(() => undefined);
    }
    if (this.state.ended) this.o.onNotice?.('the instructor ended the class');
  }
}

async function readProgress(file: string): Promise<ProgressFile> {
  try {
    const data = JSON.parse(await readFile(file, 'utf8')) as ProgressFile;
    if (data?.version === 1 && data.labs) return data;
  } catch {
    /* no progress yet, or a file being replaced: nothing new this round */
  }
  return { version: 1, labs: {} };
}

/**
 * The seed of the class this MicroLab is in (its `join.json` in `dir`): present once the host
 * approved the student and handed one, until the class ended; undefined otherwise (no class, a
 * class left or ended, an unreadable file: the student's values are then random, as outside a
 * class).
 */
export async function joinedClassSeed(dir: string): Promise<string | undefined> {
  try {
    const saved = JSON.parse(await readFile(path.join(dir, 'join.json'), 'utf8')) as Partial<JoinFile>;
    if (saved.version !== 1 || !saved.token || saved.ended) return undefined;
    return typeof saved.seed === 'string' && SEED_PATTERN.test(saved.seed) ? saved.seed : undefined;
  } catch {
    return undefined;
  }
}
