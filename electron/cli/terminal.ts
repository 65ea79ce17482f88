/**
 * `microlab shell WORKLOAD` and `microlab exec WORKLOAD -- CMD...`: a terminal session in the user's own terminal, over
 * the same API the Terminal panel uses. shell puts the local terminal in raw mode (every key,
 * Ctrl-C included, goes to the remote shell), follows its size on SIGWINCH and restores it
 * at the end; exec passes its standard input to the command byte for byte and closes it at end
 * of file (like `docker exec -i`), and prints the command's stdout and stderr apart. Both
 * exit with the remote
 * process's exit code, or 1 with the reason when the session ended otherwise.
 */
import { StringDecoder } from 'node:string_decoder';
import type { LocalApi } from '../api/local';
import type { TerminalExit } from '../api/terminal';
import { inputPieces, MAX_INPUT_CHARS } from '../api/terminal-input';
import type { Cli } from './program';
import { UsageError, wholeNumber, workloadName } from './values';

export interface TerminalCommandTarget {
  workload: string;
  replica?: number;
  firewall: boolean;
}

export type TerminalCommand =
  ({ name: 'shell' } & TerminalCommandTarget) | ({ name: 'exec'; command: string[] } & TerminalCommandTarget);

export function terminalCommands(cli: Cli): void {
  const { program } = cli;
  const replica = [
    '--replica <N>',
    'which replica, 1 to 100 (default 1)',
    wholeNumber('--replica', 1, 100),
  ] as const;
  const firewall = [
    '--firewall',
    "in its firewall instead (root, NET_ADMIN: nft list ruleset): the pod's holder, or behind the perimeter the router",
  ] as const;

  cli
    .command(
      program,
      'shell',
      "a shell in a workload (as its app's user) or, with --firewall, in its firewall",
    )
    .argument('<WORKLOAD>', 'a workload, e.g. catalog', workloadName)
    .option(...firewall)
    .option(...replica)
    .action((workload, o) =>
      cli.done(
        {
          name: 'shell',
          workload,
          firewall: Boolean(o.firewall),
          ...(o.replica !== undefined ? { replica: o.replica } : {}),
        },
        (c, rt) => runTerminal(rt.api, c),
      ),
    );

  const exec = cli
    .command(program, 'exec', 'run one command there, print its output, pass its exit code on')
    .argument('<WORKLOAD>', 'a workload, e.g. catalog', workloadName)
    .argument('[CMD...]', 'the command and its arguments, after --')
    .option(...firewall)
    .option(...replica)
    .action((workload, words, o) => {
      // Everything after -- is the command's, options included; a word before it is a mistake.
      const raw = cli.words;
      const dashes = raw.indexOf('--');
      const command = dashes === -1 ? [] : raw.slice(dashes + 1);
      if (words.length > command.length)
        throw new UsageError(`put the command after --: exec ${workload} -- ${words.join(' ')}`);
      if (!command.length) throw new UsageError(`exec needs a command after --: exec ${workload} -- id`);
      cli.done(
        {
          name: 'exec',
          workload,
          firewall: Boolean(o.firewall),
          ...(o.replica !== undefined ? { replica: o.replica } : {}),
          command,
        },
        (c, rt) => runTerminal(rt.api, c),
      );
    });
  cli.synopsis(exec, 'exec WORKLOAD [--firewall] [--replica N] -- CMD...');
}

/** Runs a shell or exec, then closes the API (its sessions end with this process). */
async function runTerminal(api: LocalApi, command: TerminalCommand): Promise<number> {
  try {
    return await runTerminalCommand(api, command);
  } finally {
    api.close();
  }
}

export interface TerminalIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WritableStream;
}

const defaultIo: TerminalIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };

/** Signals that end the CLI: the session is closed (its processes killed) first. */
const ENDING = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_CODE = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;

export async function runTerminalCommand(
  api: LocalApi,
  command: TerminalCommand,
  io: TerminalIo = defaultIo,
): Promise<number> {
  const target = {
    workload: command.workload,
    ...(command.replica !== undefined ? { replica: command.replica } : {}),
  };
  const as = command.firewall ? ('firewall' as const) : ('workload' as const);
  const tty = command.name === 'shell';
  const size = () =>
    io.stdout.isTTY && io.stdout.columns && io.stdout.rows
      ? { cols: Math.min(1000, Math.max(2, io.stdout.columns)), rows: Math.min(500, io.stdout.rows) }
      : undefined;

  // Output may arrive before `terminal:open` answers: keep it until the id is known.
  let id: string | undefined;
  const early: { id: string; data: Buffer; stderr: boolean }[] = [];
  let exited: TerminalExit | undefined;
  let onExit: (() => void) | undefined;
  const write = (data: Buffer, stderr: boolean) => (stderr ? io.stderr : io.stdout).write(data);
  const offOutput = api.on('terminal:output', (o) => {
    const data = Buffer.from(o.data, 'base64');
    if (id === undefined) early.push({ id: o.id, data, stderr: o.stream === 'stderr' });
    else if (o.id === id) write(data, o.stream === 'stderr');
  });
  const offExit = api.on('terminal:exit', (end) => {
    if (id !== undefined && end.id !== id) return;
    exited = end;
    onExit?.();
  });

  const cleanups: (() => void)[] = [offOutput, offExit];
  let signalled: keyof typeof SIGNAL_CODE | undefined;
  try {
    const initial = size();
    const session = await api.call('terminal:open', {
      target,
      as,
      tty,
      ...(initial ?? {}),
      ...(command.name === 'exec' ? { command: command.command } : {}),
    });
    id = session.id;
    for (const e of early.splice(0)) if (e.id === id) write(e.data, e.stderr);
    const sessionId = session.id;

    for (const signal of ENDING) {
      const handler = () => {
        signalled = signal;
        void api.call('terminal:close', { id: sessionId }).catch(() => undefined);
      };
      process.on(signal, handler);
      cleanups.push(() => process.off(signal, handler));
    }

    if (tty) {
      const { stdin } = io;
      if (stdin.isTTY) {
        stdin.setRawMode(true);
        cleanups.push(() => stdin.setRawMode(false));
      }
      // Text goes as text; a character split across two reads is held until its last byte
      // comes (decoding each read on its own turned both halves into U+FFFD).
      const decoder = new StringDecoder('utf8');
      const send = (text: string) => {
        for (const piece of inputPieces(text))
          void api.call('terminal:input', { id: sessionId, data: piece }).catch(() => undefined);
      };
      const onData = (chunk: Buffer) => send(decoder.write(chunk));
      // Input that is not a terminal ends like one: Ctrl-D at the start of a line.
      const onEnd = () => {
        send(decoder.end());
        void api.call('terminal:input', { id: sessionId, data: '', end: true }).catch(() => undefined);
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.resume();
      cleanups.push(() => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
      });
      const onResize = () => {
        const s = size();
        if (s) void api.call('terminal:resize', { id: sessionId, ...s }).catch(() => undefined);
      };
      io.stdout.on('resize', onResize);
      cleanups.push(() => io.stdout.off('resize', onResize));
    } else {
      cleanups.push(passInput(api, sessionId, io.stdin));
    }

    if (!exited) await new Promise<void>((resolve) => (onExit = resolve));
  } finally {
    for (const cleanup of cleanups.reverse()) cleanup();
  }
  if (signalled) return SIGNAL_CODE[signalled];
  const end = exited!;
  if (end.exitCode !== undefined) return end.exitCode;
  io.stderr.write(`\r\nmicrolab: ${command.name} ${command.workload}: ${end.reason}\n`);
  return 1;
}

/** Bytes of input a call carries (base64 of this is at most MAX_INPUT_CHARS characters). */
const INPUT_BYTES = (MAX_INPUT_CHARS / 4) * 3;

/**
 * Passes `stdin` to a session without a TTY, bytes untouched, one call at a time (reading
 * waits while a call is on its way, so a large input is held to the pace the command reads
 * it), and closes the command's input at end of file. Returns the disposer.
 */
export function passInput(api: LocalApi, id: string, stdin: NodeJS.ReadableStream): () => void {
  let stopped = false;
  const call = async (data: Buffer, end: boolean) => {
    for (let i = 0; i < data.length || (end && i === 0); i += INPUT_BYTES) {
      const last = i + INPUT_BYTES >= data.length;
      await api.call('terminal:input', {
        id,
        data: data.subarray(i, i + INPUT_BYTES).toString('base64'),
        encoding: 'base64',
        ...(end && last ? { end: true } : {}),
      });
      if (stopped) return;
    }
  };
  // Calls go one after the other: Node can emit 'end' while the last chunk's calls are still on
  // their way (pausing stops 'data', not 'end'), and the end must not overtake them.
  let sent: Promise<void> = Promise.resolve();
  const onData = (chunk: Buffer | string) => {
    stdin.pause();
    sent = sent.then(() => call(Buffer.from(chunk), false));
    sent.then(
      () => !stopped && stdin.resume(),
      () => undefined, // the session ended: its end is reported by terminal:exit
    );
  };
  // Unreadable input (a closed descriptor) is as good as none: the command sees end of file.
  const onEnd = () => {
    sent = sent.catch(() => undefined).then(() => call(Buffer.alloc(0), true));
    sent.catch(() => undefined);
  };
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  stdin.once('error', onEnd);
  stdin.resume();
  return () => {
    stopped = true;
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    stdin.off('error', onEnd);
    stdin.pause();
  };
}
