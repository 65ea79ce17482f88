/**
 * The terminal service: the API's terminal methods over the session manager. Each session
 * belongs to the connection that opened it; its output goes to that connection only, and the
 * connection's going closes it (and kills its processes in the container).
 */
import type Docker from 'dockerode';
import type { Connection } from '../api/connection';
import type { Handlers } from '../api/dispatch';
import { ApiError } from '../errors';
import { TerminalSessions } from '../terminal/sessions';

type TerminalHandlers = Pick<
  Handlers,
  'terminal:open' | 'terminal:input' | 'terminal:resize' | 'terminal:close' | 'terminal:list'
>;

export interface TerminalService {
  handlers: TerminalHandlers;
  sessions: TerminalSessions;
}

export function createTerminalService(options: {
  docker: () => Promise<Docker>;
  project: string;
}): TerminalService {
  const sessions = new TerminalSessions(options.docker, options.project);
  const watched = new Set<string>();

  const watch = (connection: Connection) => {
    if (watched.has(connection.id)) return;
    watched.add(connection.id);
    connection.onClose(() => {
      watched.delete(connection.id);
      void sessions.closeOwner(connection.id);
    });
  };

  const handlers: TerminalHandlers = {
    'terminal:open': async (input, connection) => {
      if (connection.id === 'detached') {
        throw new ApiError('terminal-detached', 'a terminal needs a connection that can receive its output');
      }
      watch(connection);
      const info = await sessions.open(
        {
          target: input.target,
          as: input.as,
          owner: connection.id,
          ...(input.cols && input.rows ? { size: { cols: input.cols, rows: input.rows } } : {}),
          ...(input.command ? { command: input.command } : {}),
          ...(input.tty !== undefined ? { tty: input.tty } : {}),
        },
        {
          output: (id, data, stream) =>
            connection.send('terminal:output', {
              id,
              data: data.toString('base64'),
              ...(stream === 'stderr' ? { stream } : {}),
            }),
          exit: (id, end) => connection.send('terminal:exit', { id, ...end }),
          backlog: () => connection.backlog(),
          drained: (bytes) => connection.drained(bytes),
        },
      );
      // A connection that went while the session was opening takes it along.
      if (connection.closed) await sessions.close(info.id, connection.id);
      return info;
    },
    'terminal:input': async ({ id, data, encoding, end }, connection) => {
      await sessions.input(id, connection.id, encoding === 'base64' ? Buffer.from(data, 'base64') : data, {
        end: end ?? false,
      });
      return { ok: true };
    },
    'terminal:resize': async ({ id, cols, rows }, connection) => {
      await sessions.resize(id, connection.id, { cols, rows });
      return { ok: true };
    },
    'terminal:close': async ({ id }, connection) => {
      await sessions.close(id, connection.id);
      return { ok: true };
    },
    'terminal:list': async (_input, connection) => sessions.list(connection.id),
  };
  return { handlers, sessions };
}
