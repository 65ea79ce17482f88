/**
 * The terminal's part of the API contract (issue 8): sessions into a workload instance or its
 * firewall. Spread into `methods` and `Events` in contract.ts.
 *
 *   terminal:open {target, as}  -> TerminalSession (its id drives the other methods)
 *   terminal:input {id, data, encoding?, end?}
 *                                  input: text typed (UTF-8), or bytes (base64), at most 64 Ki
 *                                  characters a call, in order; `end` closes the process's
 *                                  standard input after it (end of file, as `docker exec -i`
 *                                  does when its input ends); a TTY gets its EOF character
 *   terminal:resize {id, cols, rows}
 *   terminal:close {id}            ends the session and every process it started
 *   terminal:list                  this connection's sessions
 * Output arrives as `terminal:output` events (base64 bytes, batched every ~16 ms or 64 KiB)
 * and the end as one `terminal:exit`, sent only to the connection that opened the session.
 * A connection that goes (tab closed, socket lost, window reloaded) closes its sessions.
 */
import { z } from 'zod';
import type { SessionEnd, SessionInfo } from '../terminal/sessions';
import { MAX_INPUT_CHARS } from './terminal-input';

export { MAX_INPUT_CHARS };
export type TerminalSession = SessionInfo;
export const MAX_COLS = 1000;
export const MAX_ROWS = 500;

const WorkloadName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a workload name like catalog');
const SESSION_ID = 'a terminal session id as terminal:open returned it';
const SessionId = z.string({ error: SESSION_ID }).regex(/^t[0-9a-f]{16}$/, SESSION_ID);
const Cols = z.number().int().min(2).max(MAX_COLS);
const Rows = z.number().int().min(1).max(MAX_ROWS);

const Target = z.union([
  z.object({ workload: WorkloadName, replica: z.number().int().min(1).max(100).optional() }).strict(),
  z
    .object({
      container: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'a container name or id'),
    })
    .strict(),
]);

const TerminalOpen = z
  .object({
    /** A workload instance ({workload, replica}: replica 1 by default) or a container by name or id. */
    target: Target,
    /** Its own shell (as the app's user) or its firewall sidecar's (root, NET_ADMIN). */
    as: z.enum(['workload', 'firewall']).default('workload'),
    cols: Cols.optional(),
    rows: Rows.optional(),
    /** Run this command instead of a shell (argv, no shell parsing). */
    command: z.array(z.string().max(4096)).min(1).max(64).optional(),
    /** Default true; without a TTY stdout and stderr arrive apart (`microlab exec`). */
    tty: z.boolean().optional(),
  })
  .strict();

const TerminalInput = z
  .object({
    id: SessionId,
    data: z.string().max(MAX_INPUT_CHARS, `at most ${MAX_INPUT_CHARS} characters a call`),
    /** utf8 (default): text; base64: bytes, passed on untouched. */
    encoding: z.enum(['utf8', 'base64']).optional(),
    /** The last input: the process's standard input is closed after `data`. */
    end: z.boolean().optional(),
  })
  .strict();
const TerminalResize = z.object({ id: SessionId, cols: Cols, rows: Rows }).strict();
const TerminalId = z.object({ id: SessionId }).strict();
const NoInput = z.object({}).strict();

function method<I extends z.ZodType, O>(input: I) {
  return { input, output: undefined as unknown as O };
}

export const terminalMethods = {
  /** Opens a session; refused beyond 12 at once, or for a container MicroLab did not create. */
  'terminal:open': method<typeof TerminalOpen, TerminalSession>(TerminalOpen),
  'terminal:input': method<typeof TerminalInput, { ok: true }>(TerminalInput),
  'terminal:resize': method<typeof TerminalResize, { ok: true }>(TerminalResize),
  'terminal:close': method<typeof TerminalId, { ok: true }>(TerminalId),
  'terminal:list': method<typeof NoInput, TerminalSession[]>(NoInput),
} as const;

export interface TerminalOutput {
  id: string;
  /** The bytes, base64 (byte-exact; the terminal decodes UTF-8 itself). */
  data: string;
  /** Only for a session without a TTY, when the bytes came on stderr. */
  stream?: 'stderr';
}

export interface TerminalExit extends SessionEnd {
  id: string;
}

export interface TerminalEvents {
  /** A batch of a session's output (to the session's connection only). */
  'terminal:output': TerminalOutput;
  /** The session ended: exit code when its process exited, and why (to its connection only). */
  'terminal:exit': TerminalExit;
}

export const terminalEventNames = ['terminal:output', 'terminal:exit'] as const;
