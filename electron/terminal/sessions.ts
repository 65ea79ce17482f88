/**
 * Terminal sessions: a shell (or one command) exec'd into a MicroLab container with a TTY,
 * its output batched for the transports, its size kept in step with the user's terminal, and
 * its processes killed when the session is closed or its owner (a transport connection) goes.
 *
 * Docker does not end an exec's process when the client detaches (moby/moby#9098), so every
 * session's processes carry MICROLAB_TERMINAL=<id> in their environment; closing runs a
 * second exec, as the same user, that hangs them up (SIGHUP, as a terminal would) and then
 * kills whatever is left (SIGKILL). Descendants inherit the variable, background jobs too.
 *
 * A process that ends without closing its sessions (the app crashed, a CLI was killed) leaves
 * them running in the containers. So they also carry MICROLAB_TERMINAL_OWNER=<host>/<pid>, the
 * MicroLab process that opened them; the first session a process opens sweeps the project's
 * containers for sessions whose owner on this host no longer runs, and ends them (orphans.ts).
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { ApiError } from '../errors';
import { killScript, OWNER_ENV, runScript, sweepOrphans, THIS_OWNER } from './orphans';
import type { ResolvedTarget, TerminalRole, TerminalTarget } from './target';
import { resolveTarget } from './target';

/** At most this many sessions at once, over every connection: each holds an exec and a stream. */
export const MAX_SESSIONS = 12;
/** Small output and output after a quiet spell go at once; a flood every FLUSH_MS, or as soon as FLUSH_BYTES gather. */
export const FLUSH_MS = 16;
export const FLUSH_BYTES = 64 * 1024;
/**
 * Output a session lets wait for a client that does not take it (a slow browser), bytes: past
 * this it stops reading its process's output (the process then blocks on its full terminal,
 * as in any terminal), and reads again once a quarter of it is left. Input is not held back:
 * Ctrl-C reaches the process while its output waits.
 */
export const MAX_BACKLOG_BYTES = 256 * 1024;
/** Output this small (an echo, a prompt) is interactive: it is never held back. */
const SMALL_BYTES = 1024;
/** The environment variable that marks a session's processes. */
export const SESSION_ENV = 'MICROLAB_TERMINAL';

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** What the session list shows: which container, which user, workload or firewall. */
export interface SessionInfo {
  id: string;
  container: string;
  workload: string;
  replica?: number;
  role: TerminalRole;
  user: string;
  /** The command, when the session runs one instead of a shell. */
  command?: string[];
  tty: boolean;
  /** ISO time. */
  startedAt: string;
}

/** How a session ended: its exit code when the process exited, and one line saying why. */
export interface SessionEnd {
  exitCode?: number;
  reason: string;
}

/** Where a session's output goes (a transport connection, the CLI). */
export interface SessionSink {
  /** A batch of output bytes; `stream` is stderr only for a command run without a TTY. */
  output(id: string, data: Buffer, stream: 'stdout' | 'stderr'): void;
  /** Called once, last. */
  exit(id: string, end: SessionEnd): void;
  /** Output bytes sent that the other end has not taken yet (a slow browser); 0 when unknown. */
  backlog?(): number;
  /** Resolves once the backlog is at most `bytes`. */
  drained?(bytes: number): Promise<void>;
}

export interface OpenOptions {
  target: TerminalTarget;
  as: TerminalRole;
  /** Who may drive and close it: a connection id. */
  owner: string;
  size?: TerminalSize;
  /** Run this instead of a login shell. */
  command?: string[];
  /** Default true. Without a TTY stdout and stderr stay apart and no size applies. */
  tty?: boolean;
}

interface Session {
  info: SessionInfo;
  owner: string;
  target: ResolvedTarget;
  exec: Docker.Exec;
  stream: Duplex;
  sink: SessionSink;
  batch: {
    stdout: Buffer[];
    stderr: Buffer[];
    bytes: number;
    timer?: NodeJS.Timeout;
    sentAt: number;
    lastBytes: number;
  };
  /** The size on its way to the engine, the one waiting, the last applied, and who waits for them. */
  resize: { busy: boolean; next?: TerminalSize; last?: TerminalSize; waiters: (() => void)[] };
  closing?: Promise<void>;
  finishing?: boolean;
  /** Its standard input was closed (`end`): nothing more is written. */
  inputEnded?: boolean;
  /** Its output is not read while the client has MAX_BACKLOG_BYTES to take. */
  paused?: boolean;
  ended: boolean;
}

/** A shell for a TTY: bash where there is one (Debian's prompt says user@host), else sh. */
const SHELL = ['/bin/sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi'];

/** Hang up a session's processes, then kill what is left. $1 is the session id. */
const KILL_SCRIPT = killScript(SESSION_ENV);

export class TerminalSessions {
  private readonly sessions = new Map<string, Session>();
  /** Sessions being opened count against the limit too. */
  private opening = 0;
  /** The sweep for sessions left by processes that ended, started by the first open. */
  private swept?: Promise<unknown>;

  constructor(
    private readonly docker: () => Promise<Docker>,
    private readonly project: string,
  ) {}

  list(owner?: string): SessionInfo[] {
    return [...this.sessions.values()]
      .filter((s) => owner === undefined || s.owner === owner)
      .map((s) => s.info);
  }

  /**
   * Starts a session and returns what it is. Output and the end arrive at `sink`.
   * Throws ApiError `terminal-limit` (MAX_SESSIONS open), or one of resolveTarget's codes.
   */
  async open(options: OpenOptions, sink: SessionSink): Promise<SessionInfo> {
    if (this.sessions.size + this.opening >= MAX_SESSIONS) {
      throw new ApiError(
        'terminal-limit',
        `${MAX_SESSIONS} terminal sessions are open, the most MicroLab allows at once`,
        'Close a terminal tab (or end a `microlab shell`) first.',
      );
    }
    this.opening++;
    try {
      const docker = await this.docker();
      this.swept ??= this.sweep().catch(() => undefined);
      const target = await resolveTarget(docker, this.project, options.target, options.as);
      const id = `t${randomBytes(8).toString('hex')}`;
      const tty = options.tty ?? true;
      const exec = await docker.getContainer(target.containerId).exec({
        Cmd: options.command ?? SHELL,
        User: target.user,
        Env: [`${SESSION_ENV}=${id}`, `${OWNER_ENV}=${THIS_OWNER}`, 'TERM=xterm-256color'],
        Tty: tty,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await exec.start({ hijack: true, stdin: true, Tty: tty });
      const session: Session = {
        info: {
          id,
          container: target.container,
          workload: target.workload,
          ...(target.replica ? { replica: target.replica } : {}),
          role: target.role,
          user: target.user,
          ...(options.command ? { command: options.command } : {}),
          tty,
          startedAt: new Date().toISOString(),
        },
        owner: options.owner,
        target,
        exec,
        stream,
        sink,
        batch: { stdout: [], stderr: [], bytes: 0, sentAt: 0, lastBytes: 0 },
        resize: { busy: false, waiters: [] },
        ended: false,
      };
      this.sessions.set(id, session);
      this.wire(session, docker);
      if (tty && options.size) await this.resize(id, options.owner, options.size);
      return session.info;
    } finally {
      this.opening--;
    }
  }

  /**
   * Types into a session (text as UTF-8, or bytes as they are), in the order of the calls.
   * With `end`, the process's standard input is closed after `data`: the command reads end of
   * file, as with `docker exec -i` at the end of its input (the engine closes the exec's stdin
   * when the client half-closes the hijacked connection). A TTY session gets its end-of-file
   * character (Ctrl-D) instead: the engine ends a TTY exec's output when its input closes.
   * Resolves once the engine's connection took the bytes (at once, unless its buffer is full:
   * a caller that awaits each call is held back to the rate the process reads).
   * Throws ApiError `terminal-session` for an unknown or foreign id.
   */
  input(id: string, owner: string, data: string | Buffer, { end = false } = {}): Promise<void> {
    const session = this.get(id, owner);
    const { stream } = session;
    if (session.ended || session.inputEnded || stream.destroyed) return Promise.resolve();
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (end && session.info.tty) return this.input(id, owner, Buffer.concat([bytes, Buffer.from([4])]));
    const full = bytes.length > 0 && !stream.write(bytes);
    if (end) {
      session.inputEnded = true;
      stream.end();
    }
    if (!full) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        stream.off('drain', done);
        stream.off('close', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
    });
  }

  /**
   * Sets the TTY's size. Calls are coalesced: while one resize is on its way to the engine,
   * only the latest size waits, and a size equal to the last one is not sent again.
   */
  resize(id: string, owner: string, size: TerminalSize): Promise<void> {
    const session = this.get(id, owner);
    if (!session.info.tty) return Promise.resolve();
    session.resize.next = size;
    const applied = new Promise<void>((resolve) => session.resize.waiters.push(resolve));
    this.pumpResize(session);
    return applied;
  }

  /** Ends the session and every process it started in the container. */
  close(id: string, owner: string): Promise<void> {
    return this.end(this.get(id, owner), { reason: 'closed' });
  }

  /** Ends every session a connection owns (it closed, or was lost). */
  async closeOwner(owner: string): Promise<void> {
    await Promise.all(
      [...this.sessions.values()]
        .filter((s) => s.owner === owner)
        .map((s) => this.end(s, { reason: 'closed' })),
    );
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.end(s, { reason: 'closed' })));
  }

  /**
   * Whether a session's output waits for its client (MAX_BACKLOG_BYTES not taken yet), and the
   * bytes it holds gathered for the next batch. Undefined for an unknown id. For diagnostics
   * and tests.
   */
  flow(id: string): { paused: boolean; heldBytes: number } | undefined {
    const session = this.sessions.get(id);
    return session && { paused: Boolean(session.paused), heldBytes: session.batch.bytes };
  }

  private get(id: string, owner: string): Session {
    const session = this.sessions.get(id);
    if (!session || session.owner !== owner) {
      throw new ApiError('terminal-session', `no terminal session ${id}: it ended, or was never opened here`);
    }
    return session;
  }

  private wire(session: Session, docker: Docker): void {
    const { stream } = session;
    if (session.info.tty) {
      stream.on('data', (chunk: Buffer) => this.collect(session, chunk, 'stdout'));
    } else {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      stdout.on('data', (chunk: Buffer) => this.collect(session, chunk, 'stdout'));
      stderr.on('data', (chunk: Buffer) => this.collect(session, chunk, 'stderr'));
      docker.modem.demuxStream(stream, stdout, stderr);
    }
    let error: Error | undefined;
    stream.on('error', (err) => (error = err));
    stream.once('close', () => void this.finished(session, docker, error));
    stream.once('end', () => void this.finished(session, docker, error));
  }

  /**
   * Small output goes out at once when nothing is waiting (an echo, a prompt: typing pays no
   * batching delay, however fast); so does the first output after a quiet spell. Output that
   * keeps coming in bigger pieces (a flood: `cat` of a big file) is gathered and sent every
   * FLUSH_MS, or as soon as FLUSH_BYTES are there.
   */
  private collect(session: Session, chunk: Buffer, which: 'stdout' | 'stderr'): void {
    const batch = session.batch;
    batch[which].push(chunk);
    batch.bytes += chunk.length;
    const interactive = batch.bytes <= SMALL_BYTES && batch.lastBytes <= SMALL_BYTES;
    const quiet = performance.now() - batch.sentAt >= FLUSH_MS;
    if (batch.bytes >= FLUSH_BYTES || (!batch.timer && (interactive || quiet))) this.flush(session);
    else batch.timer ??= setTimeout(() => this.flush(session), FLUSH_MS);
  }

  private flush(session: Session): void {
    const batch = session.batch;
    if (batch.timer) clearTimeout(batch.timer);
    batch.timer = undefined;
    batch.lastBytes = batch.bytes;
    batch.bytes = 0;
    batch.sentAt = performance.now();
    for (const which of ['stderr', 'stdout'] as const) {
      if (!batch[which].length) continue;
      const data = Buffer.concat(batch[which]);
      batch[which] = [];
      session.sink.output(session.info.id, data, which);
    }
    this.holdBack(session);
  }

  /** Stops reading a session's output while its client has MAX_BACKLOG_BYTES to take. */
  private holdBack(session: Session): void {
    const { sink, stream } = session;
    if (session.paused || session.ended || !sink.backlog || !sink.drained) return;
    if (sink.backlog() <= MAX_BACKLOG_BYTES) return;
    session.paused = true;
    stream.pause();
    void sink.drained(MAX_BACKLOG_BYTES / 4).then(() => {
      session.paused = false;
      if (!session.ended && !stream.destroyed) stream.resume();
    });
  }

  private pumpResize(session: Session): void {
    const r = session.resize;
    const next = r.next;
    if (r.busy) return;
    if (!next || session.ended || (r.last && r.last.cols === next.cols && r.last.rows === next.rows)) {
      r.next = undefined;
      r.waiters.splice(0).forEach((resolve) => resolve());
      return;
    }
    r.next = undefined;
    r.busy = true;
    session.exec
      .resize({ h: next.rows, w: next.cols })
      .then(
        () => (r.last = next),
        () => undefined, // the process may just have exited; the end is reported by the stream
      )
      .finally(() => {
        r.busy = false;
        this.pumpResize(session);
      });
  }

  /** The stream ended by itself: the process exited, the container stopped or the engine went. */
  private async finished(session: Session, docker: Docker, error: Error | undefined): Promise<void> {
    if (session.ended || session.closing || session.finishing) return;
    session.finishing = true;
    let end: SessionEnd;
    try {
      const exec = await session.exec.inspect();
      let container = await docker.getContainer(session.target.containerId).inspect();
      // A shell killed by a signal may be a container on its way down: give it a moment to say so.
      for (let i = 0; i < 10 && container.State.Running && (exec.ExitCode ?? 128) >= 128; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        container = await docker.getContainer(session.target.containerId).inspect();
      }
      if (!container.State.Running) {
        end = { reason: `the container ${session.info.container} stopped (${container.State.Status})` };
      } else if (exec.ExitCode !== null && exec.ExitCode !== undefined && !exec.Running) {
        end = { exitCode: exec.ExitCode, reason: `exited with code ${exec.ExitCode}` };
      } else {
        end = { reason: `the connection to the shell was lost${error ? `: ${error.message}` : ''}` };
      }
    } catch (err) {
      const e = err as { statusCode?: number; message?: string };
      end =
        e.statusCode === 404
          ? { reason: `the container ${session.info.container} was removed` }
          : { reason: `the Docker engine went away (${e.message ?? 'no answer'})` };
    }
    await this.end(session, end, { kill: false });
  }

  private end(session: Session, end: SessionEnd, { kill = true } = {}): Promise<void> {
    session.closing ??= (async () => {
      if (kill) await this.kill(session).catch(() => undefined);
      this.flush(session);
      session.ended = true;
      this.sessions.delete(session.info.id);
      session.stream.destroy();
      session.sink.exit(session.info.id, end);
    })();
    return session.closing;
  }

  /**
   * Ends the sessions that MicroLab processes of this host left running when they ended without
   * closing them (see orphans.ts). Returns the owners whose sessions it ended.
   */
  async sweep(): Promise<string[]> {
    return sweepOrphans(await this.docker(), this.project);
  }

  /** Hangs up and kills every process of the session, as its own user, by its marker. */
  private async kill(session: Session): Promise<void> {
    await runScript(await this.docker(), session.target.containerId, session.target.user, [
      'sh',
      '-c',
      KILL_SCRIPT,
      'microlab-kill',
      session.info.id,
    ]);
  }
}
