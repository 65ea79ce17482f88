/**
 * The live class's protocol, pure: the join code, the progress events a student's MicroLab
 * sends (derived from its progress file, each with an id of its own so that a resend is
 * idempotent), the limits and schemas every message is checked against, the student's outbox
 * (what the host has not acknowledged yet) and the host's ledger (each event counted once).
 *
 * Transport (class/host.ts, class/client.ts): HTTPS POSTs from the student to the host, the
 * host's certificate pinned by its SHA-256 fingerprint. Nothing here touches the network.
 */
import { z } from 'zod';
import { ApiError } from '../errors';
import type { CatchUp } from '../api/class';
import type { Measurement } from '../api/contract';
import { LAB_APPS, LAB_ATTACKERS, LAB_NETWORKS } from '../api/vocabulary';
import type { ProgressFile } from '../labs/progress';

export type { CatchUp };

export const CLASS_PROTOCOL_VERSION = 1;

/** A request body over this is refused (413) before it is parsed, bytes. */
export const MAX_BODY_BYTES = 256 * 1024;
/** Events in one POST at most. */
export const MAX_BATCH_EVENTS = 200;
/** The room's messages kept and sent back at most. */
export const MAX_MESSAGES = 50;

/** What a student's MicroLab needs to join: where the host is, its certificate, the class token. */
export interface JoinCode {
  /** IPv4 or IPv6 address of the host's interface. */
  host: string;
  port: number;
  /** The class token (base64url, 32 random bytes): lets a student ask to join, nothing more. */
  token: string;
  /** SHA-256 of the host certificate's DER bytes, 64 lowercase hex digits. */
  fingerprint: string;
}

const CODE_PREFIX = 'MLC1.';

const JoinCodeSchema = z
  .object({
    h: z.union([z.ipv4(), z.ipv6()]),
    p: z.number().int().min(1).max(65535),
    t: z.string().regex(/^[A-Za-z0-9_-]{20,100}$/),
    f: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

/** The join code: `MLC1.` and the code's fields as base64url JSON (what the QR code carries). */
export function encodeJoinCode(code: JoinCode): string {
  const json = JSON.stringify({ h: code.host, p: code.port, t: code.token, f: code.fingerprint });
  return CODE_PREFIX + Buffer.from(json).toString('base64url');
}

/** Reads a join code. Throws ApiError `bad-join-code` saying what is wrong with it. */
export function decodeJoinCode(text: string): JoinCode {
  const trimmed = text.trim();
  const fail = (why: string): never => {
    throw new ApiError(
      'bad-join-code',
      `not a MicroLab class join code: ${why}`,
      'Copy the whole code `microlab class host` printed (it starts with MLC1.), or scan its QR code.',
    );
  };
  if (!trimmed.startsWith(CODE_PREFIX)) fail('it does not start with MLC1.');
  if (trimmed.length > 1000) fail(`${trimmed.length} characters: too long`);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(trimmed.slice(CODE_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    fail('its body is not base64url JSON (cut short?)');
  }
  const parsed = JoinCodeSchema.safeParse(raw);
  if (!parsed.success)
    fail(parsed.error.issues.map((i) => `${i.path.join('.') || 'code'}: ${i.message}`).join('; '));
  const c = parsed.data!;
  return { host: c.h, port: c.p, token: c.t, fingerprint: c.f };
}

export const CLASS_EVENT_KINDS = [
  'step-started',
  'check',
  'hint',
  'solve',
  'pass',
  'measurement',
  'prediction',
  'doctor',
] as const;
export type ClassEventKind = (typeof CLASS_EVENT_KINDS)[number];

/**
 * One thing a student did, as sent to the host. `id` is derived from the progress (the lab, the
 * step, the attempt's number, the measurement's time...), so the same fact always has the same
 * id: a resend is recognised and counted once.
 */
export interface ClassEvent {
  id: string;
  kind: ClassEventKind;
  /** When it happened, ISO time (as the student's clock had it). */
  at: string;
  lab?: string;
  step?: string;
  /** `check`: its number on the step (1-based) and whether the step passed with it. */
  attempt?: number;
  passed?: boolean;
  /** `check` that failed: its first failing check and how (labs/progress.ts: recordFailure; bounded). */
  failed?: { check: string; description: string; message: string };
  /** `hint`: which one (1-based). */
  hint?: number;
  /** `pass`/`solve`: seconds from the step's start to done. */
  seconds?: number;
  /** `measurement`: the number. */
  measurement?: Pick<Measurement, 'id' | 'label' | 'unit' | 'value' | 'at'> &
    Partial<Pick<Measurement, 'attacker' | 'metric' | 'app' | 'network'>>;
  /** `prediction`: the question's id and the answer. */
  prediction?: { id: string; answer: string };
  /** `doctor`: whether the laptop is ready, and the names of the checks that failed. */
  doctor?: { ready: boolean; failing: string[] };
}

const short = z.string().min(1).max(200);

// ---------------------------------------------------------------------------------------
// The instructor's actions: labs released one at a time, and "catch up to step N"

/** Catch-up suggestions a class keeps (and sends back) at most. */
export const MAX_CATCH_UPS = 100;

/** A student's acceptance of a catch-up suggestion: its id and when (the student's clock). */
export const AcceptanceSchema = z
  .object({ id: z.string().regex(/^c[0-9]{1,6}$/), at: z.string().min(1).max(40) })
  .strict();
export type Acceptance = z.infer<typeof AcceptanceSchema>;

/** The labs a class can act on: their ids and how many steps each has. */
export type LabSteps = { id: string; steps: unknown[] }[];

/**
 * Checks that `lab` is one of `labs` (and, given, that `step` is one of its steps). Throws
 * ApiError `class-unknown-lab` or `class-unknown-step`, naming what was asked and what there is.
 */
export function checkLabStep(labs: LabSteps, lab: string, step?: number): void {
  const found = labs.find((l) => l.id === lab);
  if (!found)
    throw new ApiError(
      'class-unknown-lab',
      `no lab "${lab.slice(0, 100)}" in this MicroLab`,
      `The labs: ${labs.map((l) => l.id).join(', ')}.`,
    );
  if (step !== undefined && (!Number.isInteger(step) || step < 1 || step > found.steps.length))
    throw new ApiError(
      'class-unknown-step',
      `lab ${lab} has no step ${step}: its steps are 1 to ${found.steps.length}`,
    );
}
const EventSchema = z
  .object({
    id: z.string().min(1).max(400),
    kind: z.enum(CLASS_EVENT_KINDS),
    at: z.string().min(1).max(40),
    lab: short.optional(),
    step: short.optional(),
    attempt: z.number().int().min(1).max(1e6).optional(),
    passed: z.boolean().optional(),
    failed: z
      .object({
        check: z.string().min(1).max(100),
        description: z.string().max(200),
        message: z.string().max(200),
      })
      .strict()
      .optional(),
    hint: z.number().int().min(1).max(1e4).optional(),
    seconds: z.number().min(0).max(1e8).optional(),
    measurement: z
      .object({
        id: short,
        label: z.string().max(500),
        unit: z.string().max(50),
        value: z.number().refine(Number.isFinite, 'must be a finite number'),
        at: z.string().max(40),
        attacker: z.enum(LAB_ATTACKERS).optional(),
        metric: z.enum(['workloads', 'databases', 'domains']).optional(),
        app: z.enum(LAB_APPS).optional(),
        network: z.enum(LAB_NETWORKS).optional(),
      })
      .strict()
      .optional(),
    prediction: z
      .object({ id: short, answer: z.string().max(2000) })
      .strict()
      .optional(),
    doctor: z
      .object({ ready: z.boolean(), failing: z.array(short).max(100) })
      .strict()
      .optional(),
  })
  .strict();

export const EventBatchSchema = z
  .object({
    events: z.array(EventSchema).max(MAX_BATCH_EVENTS),
    /** Catch-up suggestions the student accepted (see CatchUp). */
    accepted: z.array(AcceptanceSchema).max(MAX_CATCH_UPS).optional(),
  })
  .strict();

export const JoinRequestSchema = z
  .object({
    /** The student's name and optional id (`microlab student set`). */
    name: z.string().trim().min(1).max(100),
    id: z.string().trim().min(1).max(64).optional(),
    /** A secret the student's MicroLab made for this join: only it can pick the token up. */
    nonce: z.string().regex(/^[A-Za-z0-9_-]{32,100}$/),
  })
  .strict();
export type JoinRequest = z.infer<typeof JoinRequestSchema>;

/** The host's answer to a join: wait for the instructor, or the student's own token. */
export type JoinAnswer =
  | { state: 'pending'; student: string }
  | {
      state: 'approved';
      student: string;
      token: string;
      /** The student's seed for per-student values (64 hex digits; seed.ts). */
      seed?: string;
    }
  | { state: 'refused'; student: string };

/**
 * The host's answer to a batch: the ids it holds now (new or seen before), the room's messages,
 * and the instructor's actions for this student (absent from a host that has none to give).
 */
export interface BatchAnswer {
  acked: string[];
  messages: { at: string; text: string }[];
  ended: boolean;
  /** The labs the instructor released, lab ids in the order released. */
  released?: string[];
  /** The catch-up suggestions made to this student or to the room, oldest first. */
  catchUps?: CatchUp[];
}

/**
 * Checks a parsed body against a schema. Throws ApiError `bad-message` naming the first
 * problems by path (`events.3.kind: ...`).
 */
export function checkMessage<T>(schema: z.ZodType<T>, raw: unknown): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
  throw new ApiError('bad-message', `malformed message: ${lines.join('; ')}`);
}

/**
 * Every event the progress file holds, in a stable order, each with its stable id. Called
 * again after any change, it returns the same events plus the new ones.
 */
export function eventsFromProgress(progress: ProgressFile): ClassEvent[] {
  const events: ClassEvent[] = [];
  for (const [lab, record] of Object.entries(progress.labs)) {
    for (const [step, s] of Object.entries(record.steps)) {
      const key = `${lab}/${step}`;
      const started = s.startedAt ?? record.startedAt ?? '';
      if (s.startedAt)
        events.push({ id: `started/${key}`, kind: 'step-started', at: s.startedAt, lab, step });
      for (let n = 1; n <= s.attempts; n++) {
        const passed = s.outcome === 'passed' && n === s.attempts;
        const failure = passed ? undefined : s.failures?.find((f) => f.attempt === n);
        events.push({
          id: `check/${key}/${n}`,
          kind: 'check',
          at: passed && s.doneAt ? s.doneAt : started,
          lab,
          step,
          attempt: n,
          passed,
          ...(failure
            ? { failed: { check: failure.check, description: failure.description, message: failure.message } }
            : {}),
        });
      }
      for (let n = 1; n <= s.hintsShown; n++)
        events.push({ id: `hint/${key}/${n}`, kind: 'hint', at: started, lab, step, hint: n });
      if (s.outcome !== 'pending')
        events.push({
          id: `${s.outcome === 'passed' ? 'pass' : 'solve'}/${key}`,
          kind: s.outcome === 'passed' ? 'pass' : 'solve',
          at: s.doneAt ?? started,
          lab,
          step,
          ...(s.seconds !== undefined ? { seconds: s.seconds } : {}),
        });
      for (const m of s.measurements)
        events.push({
          id: `measure/${key}/${m.id}/${m.at}`,
          kind: 'measurement',
          at: m.at,
          lab,
          step,
          measurement: {
            id: m.id,
            label: m.label,
            unit: m.unit,
            value: m.value,
            at: m.at,
            ...(m.attacker ? { attacker: m.attacker } : {}),
            ...(m.metric ? { metric: m.metric } : {}),
            ...(m.app ? { app: m.app } : {}),
            ...(m.network ? { network: m.network } : {}),
          },
        });
      for (const [id, p] of Object.entries(s.predictions ?? {}))
        events.push({
          id: `predict/${key}/${id}`,
          kind: 'prediction',
          at: p.at,
          lab,
          step,
          prediction: { id, answer: p.answer },
        });
    }
  }
  return events;
}

/**
 * The student's side: what is still to be sent. Events enter once (by id), leave when the host
 * acknowledges them; an event the host acknowledged is never queued again. Serialisable
 * (`toJSON`/`from`) so that a restart of the student's MicroLab loses nothing.
 */
export class Outbox {
  private readonly pending = new Map<string, ClassEvent>();
  private readonly acked = new Set<string>();

  static from(saved: { pending?: ClassEvent[]; acked?: string[] } | undefined): Outbox {
    const box = new Outbox();
    for (const id of saved?.acked ?? []) box.acked.add(id);
    for (const e of saved?.pending ?? []) if (!box.acked.has(e.id)) box.pending.set(e.id, e);
    return box;
  }

  /** Queues the events not seen before; returns how many were new. */
  add(events: ClassEvent[]): number {
    let added = 0;
    for (const e of events)
      if (!this.acked.has(e.id) && !this.pending.has(e.id)) {
        this.pending.set(e.id, e);
        added++;
      }
    return added;
  }

  /** The next events to send, oldest first, at most `max`. */
  batch(max = MAX_BATCH_EVENTS): ClassEvent[] {
    return [...this.pending.values()].slice(0, max);
  }

  /** The host holds these: they leave the queue for good. */
  ack(ids: string[]): void {
    for (const id of ids) {
      this.pending.delete(id);
      this.acked.add(id);
    }
  }

  get size(): number {
    return this.pending.size;
  }

  get ackedCount(): number {
    return this.acked.size;
  }

  toJSON(): { pending: ClassEvent[]; acked: string[] } {
    return { pending: [...this.pending.values()], acked: [...this.acked] };
  }
}

/** Events per kind. */
export type KindTotals = Record<ClassEventKind, number>;

export function zeroTotals(): KindTotals {
  return Object.fromEntries(CLASS_EVENT_KINDS.map((k) => [k, 0])) as KindTotals;
}

/**
 * The host's side: every student's events by id. An event whose id the student sent before is
 * acknowledged again and not counted again (the first one stays).
 */
export class Ledger {
  private readonly byStudent = new Map<string, Map<string, ClassEvent>>();

  /**
   * Adds a batch from `student`; returns the events that were new (to be stored) and the ids
   * to acknowledge (all of the batch's).
   */
  accept(student: string, events: ClassEvent[]): { fresh: ClassEvent[]; acked: string[] } {
    let seen = this.byStudent.get(student);
    if (!seen) this.byStudent.set(student, (seen = new Map()));
    const fresh: ClassEvent[] = [];
    for (const e of events)
      if (!seen.has(e.id)) {
        seen.set(e.id, e);
        fresh.push(e);
      }
    return { fresh, acked: events.map((e) => e.id) };
  }

  events(student: string): ClassEvent[] {
    return [...(this.byStudent.get(student)?.values() ?? [])];
  }

  students(): string[] {
    return [...this.byStudent.keys()];
  }

  /** Events per kind, over one student or the whole class. */
  totals(student?: string): KindTotals {
    const totals = zeroTotals();
    const lists = student ? [this.events(student)] : this.students().map((s) => this.events(s));
    for (const list of lists) for (const e of list) totals[e.kind]++;
    return totals;
  }
}
