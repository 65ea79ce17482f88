/**
 * The instructor's class server: HTTPS on one address of one interface (never every interface),
 * with the class's own certificate (store.ts). Students POST to it; it never connects to them.
 *
 *   POST /class/v1/join     class token   {name, id?, nonce}  -> JoinAnswer (pending until approved)
 *   POST /class/v1/events   student token {events: [...]}     -> BatchAnswer (ids held, messages)
 *   GET  /class/v1/state    instructor token                  -> ClassDashboard
 *   POST /class/v1/approve | /revoke {student}, /message {text}, /end   instructor token
 *   POST /class/v1/release {lab}, /catch-up {lab, step, student?}         instructor token
 *   GET  /class/v1/report   instructor token  -> ClassReport (class-report.json), as a download
 *   GET  /class/v1/report.csv instructor token -> its CSV (class-report.csv), as a download
 *   GET  /, /assets/...     the app's UI (its Class view), when a UI folder is given
 *
 * Tokens travel in `Authorization: Bearer`. Refused and logged (never with a token): a missing,
 * wrong or revoked token (401/403), a student not approved yet (403), a browser Origin on a
 * student's route or a foreign Origin or Host on the instructor's (403), a body over
 * MAX_BODY_BYTES (413), not JSON (415/400), not the message's schema (400), a join or events
 * after the class ended (410).
 */
import { timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { ApiError } from '../errors';
import type { ClassDashboard } from '../api/class';
import type { ClassReport } from '../api/contract';
import { CONTENT_SECURITY_POLICY } from '../api/security';
import type { Lab } from '../labs/format';
import { classReportOf, dashboardOf, type RosterEntry } from './dashboard';
import {
  MAX_CATCH_UPS,
  checkLabStep,
  type CatchUp,
  EventBatchSchema,
  JoinRequestSchema,
  MAX_BODY_BYTES,
  MAX_MESSAGES,
  checkMessage,
  encodeJoinCode,
  type BatchAnswer,
  type JoinAnswer,
} from './protocol';
import { sha256, type ClassStore } from './store';

/** Students a class takes at most (join requests past it are refused). */
export const MAX_STUDENTS = 1000;

export interface ClassHostOptions {
  store: ClassStore;
  labs: Lab[];
  /** The built UI (index.html and its assets), served to the instructor; absent: the API only. */
  uiDir?: string;
  /** Told of each join request and each refusal, one line (no token). */
  onNotice?: (line: string) => void;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(sha256(given), 'hex');
  const b = Buffer.from(sha256(expected), 'hex');
  return timingSafeEqual(a, b);
}

function bearer(req: IncomingMessage): string {
  const h = req.headers.authorization ?? '';
  const m = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(h);
  if (!m) throw new Refusal(401, h ? 'a malformed Authorization header' : 'no token');
  return m[1]!;
}

async function body(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (type !== 'application/json') throw new Refusal(415, `content type "${type}", not application/json`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES)
    throw new Refusal(413, `a body of ${declared} bytes (at most ${MAX_BODY_BYTES})`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Refusal(413, `a body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new Refusal(400, 'a body that is not JSON');
  }
}

function checked<T>(schema: z.ZodType<T>, raw: unknown): T {
  try {
    return checkMessage(schema, raw);
  } catch (err) {
    throw new Refusal(400, (err as Error).message);
  }
}

const StudentKey = z.object({ student: z.string().min(1).max(20) }).strict();
const RoomMessage = z.object({ text: z.string().trim().min(1).max(500) }).strict();
const LabKey = z.object({ lab: z.string().min(1).max(100) }).strict();
const CatchUpAsk = z
  .object({
    lab: z.string().min(1).max(100),
    step: z.number().int().min(1).max(100),
    student: z.string().min(1).max(20).optional(),
  })
  .strict();

/** A route's answer sent as a file to save (its name, content type and body), not as JSON. */
class Download {
  constructor(
    readonly name: string,
    readonly type: string,
    readonly body: string,
  ) {}
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

export class ClassHost {
  private server?: Server;
  private readonly lastSeen = new Map<string, string>();

  constructor(private readonly o: ClassHostOptions) {}

  get store(): ClassStore {
    return this.o.store;
  }

  /** The join code of the class (address, port, class token, fingerprint). */
  joinCode(): string {
    const d = this.store.data;
    return encodeJoinCode({
      host: d.class.address,
      port: d.class.port,
      token: d.classToken,
      fingerprint: d.fingerprint,
    });
  }

  /** The dashboard's address, the instructor token in its fragment (never sent over the wire). */
  dashboardUrl(): string {
    return `${this.origin()}/#class=${this.store.data.instructorToken}`;
  }

  private origin(): string {
    const { address, port } = this.store.data.class;
    return `https://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  /**
   * Listens on the class's address and port. A port of 0 takes a free one and keeps it in the
   * store (a restart listens there again). Throws ApiError `class-listen` when the address or
   * port cannot be had.
   */
  async start(): Promise<void> {
    const server = createServer(
      { key: this.store.key, cert: this.store.cert, minVersion: 'TLSv1.2' },
      (req, res) => {
        // Nothing a request does may stop the class: a failure answering it ends that connection.
        this.handle(req, res).catch(() => res.destroy());
      },
    );
    server.headersTimeout = 10_000;
    server.requestTimeout = 20_000;
    const { address, port } = this.store.data.class;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new ApiError(
            'class-listen',
            `cannot listen on ${address} port ${port}: ${err.code ?? err.message}`,
            err.code === 'EADDRINUSE'
              ? 'Another program holds the port: pick another with --port.'
              : undefined,
          ),
        ),
      );
      server.listen({ host: address, port }, () => resolve());
    });
    this.server = server;
    const bound = (server.address() as AddressInfo).port;
    if (bound !== port) {
      this.store.data.class.port = bound;
      await this.store.save();
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private roster(): RosterEntry[] {
    return this.store.data.students.map((s) => {
      const seen = this.lastSeen.get(s.key);
      return {
        key: s.key,
        name: s.name,
        ...(s.id ? { id: s.id } : {}),
        state: s.state,
        address: s.address,
        joinedAt: s.joinedAt,
        ...(seen ? { lastSeen: seen } : {}),
      };
    });
  }

  /**
   * The dashboard's export: the class report of the students' progress as the ledger holds it,
   * the one `microlab class report` makes from their exported files (dashboard.ts: classReportOf).
   */
  report(): ClassReport {
    return classReportOf(this.roster(), this.store.ledger, this.o.labs);
  }

  dashboard(now = Date.now()): ClassDashboard {
    const d = this.store.data;
    const roster = this.roster();
    const info = { ...d.class };
    delete (info as { interface?: string }).interface;
    return {
      ...dashboardOf(info, roster, this.store.ledger, this.o.labs, d.messages, now),
      released: [...(d.released ?? [])],
      catchUps: (d.catchUps ?? []).map((c) => ({
        id: c.id,
        at: c.at,
        lab: c.lab,
        step: c.step,
        ...(c.student ? { student: c.student } : {}),
        accepted: Object.entries(c.accepted).map(([student, at]) => ({ student, at })),
      })),
    };
  }

  /**
   * Releases `lab` to the class (again: nothing changes); students learn it in their next
   * answer. Throws ApiError `class-unknown-lab` naming it. Saved before it returns.
   */
  async release(lab: string): Promise<string[]> {
    checkLabStep(this.o.labs, lab);
    const d = this.store.data;
    d.released ??= [];
    if (!d.released.includes(lab)) {
      d.released.push(lab);
      await this.store.save();
      await this.notice(`released ${lab}`);
    }
    return [...d.released];
  }

  /**
   * Suggests "catch up to step `step` of `lab`" to `student` (a key), or to the room when
   * absent. Throws ApiError `class-unknown-lab`, `class-unknown-step` or `class-no-student`
   * naming what is not there, `class-catch-ups` past MAX_CATCH_UPS. Saved before it returns.
   */
  async suggest(lab: string, step: number, student?: string): Promise<CatchUp> {
    checkLabStep(this.o.labs, lab, step);
    if (student !== undefined) this.store.student(student);
    const d = this.store.data;
    d.catchUps ??= [];
    if (d.catchUps.length >= MAX_CATCH_UPS)
      throw new ApiError('class-catch-ups', `the class holds ${MAX_CATCH_UPS} catch-up suggestions already`);
    const c = {
      id: `c${d.catchUps.length + 1}`,
      at: new Date().toISOString(),
      lab,
      step,
      ...(student ? { student } : {}),
      accepted: {},
    };
    d.catchUps.push(c);
    await this.store.save();
    await this.notice(`suggested ${c.id}: catch up to step ${step} of ${lab}, to ${student ?? 'the room'}`);
    return { id: c.id, at: c.at, lab, step, ...(student ? { student } : {}) };
  }

  /** The catch-up suggestions `key` sees: its own and the room's, with its acceptance. */
  private catchUpsFor(key: string): CatchUp[] {
    return (this.store.data.catchUps ?? [])
      .filter((c) => c.student === undefined || c.student === key)
      .map((c) => ({
        id: c.id,
        at: c.at,
        lab: c.lab,
        step: c.step,
        ...(c.student ? { student: c.student } : {}),
        ...(c.accepted[key] ? { accepted: c.accepted[key] } : {}),
      }));
  }

  async approve(key: string): Promise<void> {
    const s = await this.store.setState(key, 'approved');
    await this.notice(`approved ${s.key} (${s.name})`);
  }

  async revoke(key: string): Promise<void> {
    const s = await this.store.setState(key, 'revoked');
    await this.notice(`revoked ${s.key} (${s.name}): its token is refused from now on`);
  }

  async message(text: string): Promise<void> {
    const d = this.store.data;
    d.messages.push({ at: new Date().toISOString(), text });
    d.messages = d.messages.slice(-MAX_MESSAGES);
    await this.store.save();
  }

  async end(): Promise<void> {
    this.store.data.class.ended = new Date().toISOString();
    await this.store.save();
    await this.notice('the class ended');
  }

  private async notice(line: string): Promise<void> {
    this.o.onNotice?.(line);
    await this.store.log(line);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = `${req.method ?? '?'} ${(req.url ?? '').split(/[?#]/)[0]!.slice(0, 100)}`;
    // Read now: a body cut short or refused mid-way destroys the request, and its socket with it.
    const from = req.socket.remoteAddress ?? '?';
    try {
      const answer = await this.route(req, route);
      if (answer === undefined) return await this.serveUi(req, res, route);
      if (answer instanceof Download) {
        res.writeHead(200, {
          'content-type': answer.type,
          'content-disposition': `attachment; filename="${answer.name}"`,
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
        });
        return void res.end(answer.body);
      }
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(answer));
    } catch (err) {
      const status = err instanceof Refusal ? err.status : err instanceof ApiError ? 400 : 500;
      const message = err instanceof Error ? err.message : String(err);
      await this.notice(`refused ${from} ${route}: ${status} ${message}`);
      if (!res.headersSent) {
        res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify({ error: message }));
      } else res.destroy();
      // A body left unread (too big, refused before reading) is not waited for.
      req.resume();
    }
  }

  /** The answer to an API route, or undefined for the UI's files. */
  private async route(req: IncomingMessage, route: string): Promise<unknown> {
    switch (route) {
      case 'POST /class/v1/join':
        this.noBrowser(req);
        return this.join(req);
      case 'POST /class/v1/events':
        this.noBrowser(req);
        return this.events(req);
      case 'GET /class/v1/state':
        this.instructor(req);
        return this.dashboard();
      case 'POST /class/v1/approve':
        this.instructor(req);
        await this.approve(checked(StudentKey, await body(req)).student);
        return { ok: true };
      case 'POST /class/v1/revoke':
        this.instructor(req);
        await this.revoke(checked(StudentKey, await body(req)).student);
        return { ok: true };
      case 'POST /class/v1/message':
        this.instructor(req);
        await this.message(checked(RoomMessage, await body(req)).text);
        return { ok: true };
      case 'POST /class/v1/release':
        this.instructor(req);
        return { released: await this.release(checked(LabKey, await body(req)).lab) };
      case 'POST /class/v1/catch-up': {
        this.instructor(req);
        const ask = checked(CatchUpAsk, await body(req));
        return this.suggest(ask.lab, ask.step, ask.student);
      }
      case 'GET /class/v1/report': {
        this.instructor(req);
        // As `class report --out` writes class-report.json: the CSV is its own file.
        const report: Partial<ClassReport> = this.report();
        delete report.csv;
        return new Download('class-report.json', 'application/json', JSON.stringify(report, null, 2) + '\n');
      }
      case 'GET /class/v1/report.csv':
        this.instructor(req);
        return new Download('class-report.csv', 'text/csv; charset=utf-8', this.report().csv);
      case 'POST /class/v1/end':
        this.instructor(req);
        await this.end();
        return { ok: true };
      default:
        if (route.startsWith('POST ') || route.startsWith('GET /class/'))
          throw new Refusal(404, 'no such route');
        return undefined;
    }
  }

  /** Students' routes are for MicroLab, not for a page in a browser. */
  private noBrowser(req: IncomingMessage): void {
    if (req.headers.origin !== undefined)
      throw new Refusal(403, `a browser page (Origin ${req.headers.origin.slice(0, 100)})`);
  }

  private instructor(req: IncomingMessage): void {
    const origin = this.origin();
    if (req.headers.host !== origin.slice('https://'.length))
      throw new Refusal(403, `Host ${String(req.headers.host).slice(0, 100)} is not this class's address`);
    if (req.headers.origin !== undefined && req.headers.origin !== origin)
      throw new Refusal(403, `a foreign Origin ${req.headers.origin.slice(0, 100)}`);
    if (!sameSecret(bearer(req), this.store.data.instructorToken))
      throw new Refusal(401, 'a wrong instructor token');
  }

  private async join(req: IncomingMessage): Promise<JoinAnswer> {
    if (!sameSecret(bearer(req), this.store.data.classToken)) throw new Refusal(401, 'a wrong class token');
    const d = this.store.data;
    if (d.class.ended) throw new Refusal(410, 'the class ended');
    const ask = checked(JoinRequestSchema, await body(req));
    const nonceHash = sha256(ask.nonce);
    let s = d.students.find((x) => x.nonceHash === nonceHash);
    if (!s) {
      if (d.students.length >= MAX_STUDENTS)
        throw new Refusal(403, `the class is full (${MAX_STUDENTS} students)`);
      s = {
        key: `s${d.students.length + 1}`,
        name: ask.name,
        ...(ask.id ? { id: ask.id } : {}),
        state: 'pending',
        address: req.socket.remoteAddress ?? '?',
        joinedAt: new Date().toISOString(),
        nonceHash,
      };
      d.students.push(s);
      await this.store.save();
      if (d.class.autoApprove) await this.approve(s.key);
      else
        await this.notice(
          `${s.key}: ${s.name}${s.id ? ` (${s.id})` : ''} from ${s.address} asks to join: approve ${s.key}`,
        );
    }
    if (s.state === 'revoked') return { state: 'refused', student: s.key };
    if (s.state === 'pending') return { state: 'pending', student: s.key };
    if (!s.unclaimed)
      throw new Refusal(
        409,
        `${s.key} picked its token up already: a second MicroLab cannot join with the same nonce`,
      );
    return { state: 'approved', student: s.key, token: s.unclaimed, seed: this.store.seedOf(s.key) };
  }

  private async events(req: IncomingMessage): Promise<BatchAnswer> {
    const hash = sha256(bearer(req));
    const d = this.store.data;
    const s = d.students.find((x) => x.tokenHash !== undefined && x.tokenHash === hash);
    if (!s) throw new Refusal(401, 'a wrong or revoked student token');
    if (s.state !== 'approved') throw new Refusal(403, `${s.key} is ${s.state}`);
    // An ended class takes nothing more: its numbers are final; the student's MicroLab stops.
    if (d.class.ended) throw new Refusal(410, 'the class ended: it takes no more events');
    const batch = checked(EventBatchSchema, await body(req));
    // Acceptances are checked before anything of the batch is taken: nothing half-applied.
    const mine = new Map(this.catchUpsFor(s.key).map((c) => [c.id, c]));
    for (const a of batch.accepted ?? [])
      if (!mine.has(a.id)) throw new Refusal(400, `accepted: no catch-up suggestion ${a.id} for ${s.key}`);
    const { fresh, acked } = this.store.ledger.accept(s.key, batch.events);
    await this.store.appendEvents(s.key, fresh);
    this.lastSeen.set(s.key, new Date().toISOString());
    let changed = false;
    for (const a of batch.accepted ?? []) {
      const c = d.catchUps!.find((x) => x.id === a.id)!;
      if (c.accepted[s.key]) continue;
      c.accepted[s.key] = a.at;
      changed = true;
      await this.notice(`${s.key} accepted ${c.id}: catch up to step ${c.step} of ${c.lab}`);
    }
    if (s.unclaimed) {
      delete s.unclaimed;
      changed = true;
    }
    if (changed) await this.store.save();
    return {
      acked,
      messages: d.messages,
      ended: Boolean(d.class.ended),
      released: [...(d.released ?? [])],
      catchUps: this.catchUpsFor(s.key),
    };
  }

  private async serveUi(req: IncomingMessage, res: ServerResponse, route: string): Promise<void> {
    const dir = this.o.uiDir;
    const url = (req.url ?? '/').split(/[?#]/)[0]!;
    const name = url === '/' ? 'index.html' : decodeURIComponent(url).replace(/^\/+/, '');
    const file = dir ? path.resolve(dir, name) : '';
    if (!dir || req.method !== 'GET' || !file.startsWith(path.resolve(dir) + path.sep))
      throw new Refusal(404, `nothing at ${route}`);
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      throw new Refusal(404, `nothing at ${route}`);
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      // The app's own policy, with its connections to this origin only (the dashboard fetches its state here).
      'content-security-policy': CONTENT_SECURITY_POLICY.replace(
        "connect-src 'self' ws://127.0.0.1:*",
        "connect-src 'self'",
      ),
      'referrer-policy': 'no-referrer',
    });
    res.end(data);
  }
}
