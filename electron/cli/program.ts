/**
 * The CLI's commands, each defined once with commander: its arguments, options, description and
 * handler together (one module per group of commands). The parsing, `microlab help`,
 * `microlab help CMD` and `microlab CMD --help` all come from those definitions.
 *
 * Parsing is pure: `parse(argv)` runs no handler; it returns the command's value (what the tests
 * compare) and the handler bound to it, which `main` runs with a Runtime.
 *
 * A new command, in its group's module (or a new module added to commands.ts):
 *
 *   cli
 *     .command(parent, 'name', 'what it does, as `microlab help` shows it')
 *     .argument('<FILE>', 'what FILE is')
 *     .option('--limit <N>', 'what N is', wholeNumber('--limit', 1, 100)) // values.ts: one check of each kind
 *     .option('--json', 'the answer as JSON')
 *     .action((file, o) =>
 *       cli.done({ name: 'group-name', file, json: Boolean(o.json) }, async (c, rt) => {
 *         const result = await rt.call('group:method', { file: c.file });
 *         printResult(rt.out, c.json, result, format); // output.ts: printResult, printJson, table
 *         return 0; // the exit code: 1 for a failure; a UsageError (exit 2) is thrown while parsing
 *       }),
 *     );
 *
 * `cli.group(parent, 'name', ...)` holds subcommands. The README's command tables must list the
 * command and each option (test/unit/cli-readme.test.ts).
 */
import { Command, CommanderError } from '@commander-js/extra-typings';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { LocalApi } from '../api/local';
import type { TaskInfo } from '../api/contract';
import type { Services } from '../services';
import { UsageError } from './values';

export { UsageError } from './values';

/** What a handler works with; built by `main` only once a command has parsed. */
export interface Runtime {
  services: Services;
  api: LocalApi;
  call: LocalApi['call'];
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
  /** Starts a task and shows its progress until it ends: 0, 1 (failed) or 130 (canceled). */
  follow: (start: () => Promise<TaskInfo>) => Promise<number>;
}

/** A parsed command: a plain value naming it and its inputs, and its handler bound to it. */
export interface Parsed {
  value: { name: string };
  /** Runs the command; resolves to its exit code. */
  run: (rt: Runtime) => Promise<number>;
}

/** The program being defined: the command tree and what parsing found. */
export class Cli {
  readonly program: Command;
  found: Parsed | undefined;
  helpText = '';
  /** The words being parsed, as given (`--` included). */
  words: readonly string[] = [];
  private readonly groups = new WeakSet<CommandUnknownOpts>();
  private readonly synopses = new WeakMap<CommandUnknownOpts, string>();

  constructor() {
    this.program = new Command('microlab')
      .helpCommand(false)
      .allowExcessArguments(true)
      .configureOutput({
        writeOut: (text) => void (this.helpText += text),
        writeErr: () => undefined,
        outputError: () => undefined,
      })
      .exitOverride((e) => {
        throw usageError(e, this.program);
      });
    // A command takes the arguments it declares and no more; this says which one is too many.
    this.program.hook('preAction', (_root, action) => {
      if (this.groups.has(action) || action.commands.length) return;
      const declared = action.registeredArguments;
      if (declared.at(-1)?.variadic) return;
      const extra = action.args[declared.length];
      if (extra === undefined) return;
      if (this.words.includes('--'))
        throw new UsageError(`${commandPath(action)} takes no command: nothing goes after --`);
      throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
    });
  }

  /** A command under `parent` (the program or a group); chain its arguments, options and action. */
  command(parent: CommandUnknownOpts, name: string, description: string): Command {
    const cmd = (parent as Command).command(name).description(description);
    cmd.exitOverride((e) => {
      throw usageError(e, cmd);
    });
    return cmd;
  }

  /**
   * A command that only holds others (`policy`, `lab`): given none, or one it lacks, it says
   * which there are.
   */
  group(parent: CommandUnknownOpts, name: string, description: string): Command {
    const cmd = this.command(parent, name, description);
    this.groups.add(cmd);
    cmd.action((_opts, self) => {
      const names = self.commands.map((c) => c.name());
      const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names.join('');
      const path = commandPath(self);
      if (self.args[0] !== undefined)
        throw new UsageError(
          `unknown ${path} command ${JSON.stringify(self.args[0])}: ${path} takes ${list}`,
        );
      throw new UsageError(`${path} needs a command: ${list}`);
    });
    return cmd;
  }

  /** The synopsis shown in `microlab help` when the generated one would mislead (`exec ... -- CMD...`). */
  synopsis(cmd: CommandUnknownOpts, text: string): void {
    this.synopses.set(cmd, text);
    cmd.usage(text.slice(commandPath(cmd).length + 1));
  }

  /** Records what was parsed: the command's value and its handler. Called by every action. */
  done<const V extends { name: string }>(value: V, run: (value: V, rt: Runtime) => Promise<number>): void {
    this.found = { value, run: (rt) => run(value, rt) };
  }

  /** The command at `words` (["policy", "apply"]), or undefined. */
  find(words: readonly string[]): CommandUnknownOpts | undefined {
    let cmd: CommandUnknownOpts | undefined = this.program;
    for (const word of words) cmd = cmd?.commands.find((c) => c.name() === word);
    return cmd === this.program ? undefined : cmd;
  }

  /** Every command that runs something (groups left out), depth first in definition order. */
  leaves(cmd: CommandUnknownOpts = this.program): CommandUnknownOpts[] {
    return cmd.commands.flatMap((c) => [...(this.groups.has(c) ? [] : [c]), ...this.leaves(c)]);
  }

  /** "policy apply FILE [--mode monitor|enforce|off] [--json]": arguments, then options. */
  synopsisOf(cmd: CommandUnknownOpts): string {
    const own = this.synopses.get(cmd);
    if (own) return own;
    const args = cmd.registeredArguments.map((a) => {
      const text = `${a.name()}${a.variadic ? '...' : ''}`;
      return a.required ? text : `[${text}]`;
    });
    const options = cmd.options
      .filter((o) => o.long !== '--help')
      .map((o, i) => (o.mandatory ? optionsOf(cmd)[i]! : `[${optionsOf(cmd)[i]!}]`));
    return [commandPath(cmd), ...args, ...options].join(' ');
  }

  /** `microlab help`: every command with its synopsis and description, from the definitions. */
  usage(): string {
    const lines = ['Usage: microlab <command> [options]', '', 'Commands:'];
    for (const cmd of this.leaves()) {
      const synopsis = wrap(this.synopsisOf(cmd), WIDTH - 2, ' '.repeat(2 + commandPath(cmd).length + 1));
      const description = wrap(cmd.description(), WIDTH - COLUMN, '');
      const [first, ...more] = synopsis;
      if (first!.length + 2 < COLUMN && more.length === 0)
        lines.push(
          `  ${first!.padEnd(COLUMN - 2)}${description[0] ?? ''}`,
          ...description.slice(1).map(indent),
        );
      else lines.push(`  ${first}`, ...more.map((l) => `  ${l}`), ...description.map(indent));
    }
    lines.push('', ...ENVIRONMENT);
    return lines.join('\n') + '\n';
  }
}

const WIDTH = 100;
const COLUMN = 34;
const indent = (line: string) => `${' '.repeat(COLUMN)}${line}`;

const ENVIRONMENT = [
  'Environment: DOCKER_HOST picks the engine; MICROLAB_PROJECT scopes what MicroLab creates;',
  "MICROLAB_SUBNET_POOL sets the lab networks' range; MICROLAB_STUDENT (and MICROLAB_STUDENT_ID)",
  'names the student, over the name set with `student set`; MICROLAB_STATE_DIR is where progress',
  "and a class's files are kept; MICROLAB_CLASS_CODE gives `class join` its code.",
  '`microlab help COMMAND` or `microlab COMMAND --help` shows one command in full.',
];

/** The words that name `cmd` under the program: "policy apply". */
export function commandPath(cmd: CommandUnknownOpts): string {
  const words: string[] = [];
  for (let c: CommandUnknownOpts | null = cmd; c?.parent; c = c.parent) words.unshift(c.name());
  return words.join(' ');
}

/** A command's options as written in a synopsis ("--mode monitor|enforce|off", "--json"), help left out. */
export function optionsOf(cmd: CommandUnknownOpts): string[] {
  return cmd.options
    .filter((o) => o.long !== '--help')
    .map((o) => {
      if (!o.required && !o.optional) return o.long!;
      const value = o.argChoices
        ? o.argChoices.join('|')
        : (/[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? 'VALUE');
      return `${o.long} ${value}`;
    });
}

/** Words (a [bracketed group] is one) into lines of at most `width` characters; lines after the first start with `rest`. */
function wrap(text: string, width: number, rest: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.match(/\[[^\]]*\]|\S+/g) ?? []) {
    const prefix = lines.length ? rest : '';
    if (line && prefix.length + line.length + 1 + word.length > width) {
      lines.push(prefix + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push((lines.length ? rest : '') + line);
  return lines;
}

/** Commander's error as ours: the message without its "error: "; a missing argument says what it is and where it goes. */
function usageError(e: CommanderError, cmd: CommandUnknownOpts): Error {
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return e;
  const message = e.message.replace(/^error: /, '');
  const missing = /^missing required argument '(.+)'$/.exec(message);
  if (missing) {
    const what = cmd.registeredArguments.find((arg) => arg.name() === missing[1])?.description;
    return new UsageError(
      `${commandPath(cmd)} needs ${missing[1]}${what ? ` (${what})` : ''}: microlab ${commandPathAndArgs(cmd)}`,
    );
  }
  return new UsageError(message);
}

function commandPathAndArgs(cmd: CommandUnknownOpts): string {
  return [
    commandPath(cmd),
    ...cmd.registeredArguments.map(
      (a) => (a.required ? a.name() : `[${a.name()}]`) + (a.variadic ? '...' : ''),
    ),
  ].join(' ');
}

/** The `microlab CMD --help` text, and how it is shown. */
export function helpShown(text: string): Parsed {
  return {
    value: { name: 'help' },
    run: (rt) => {
      rt.out.write(text);
      return Promise.resolve(0);
    },
  };
}

/** Parses argv against `cli`'s definitions; throws UsageError with a message naming what is wrong. */
export function parseWith(cli: Cli, argv: readonly string[]): Parsed {
  // `microlab`, `microlab --help` and `microlab --version` are the help and version commands.
  const [first, ...rest] = argv;
  const args =
    first === undefined || first === '--help' || first === '-h'
      ? ['help', ...rest]
      : first === '--version'
        ? ['version', ...rest]
        : [...argv];
  cli.words = args;
  try {
    cli.program.parse(args, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError && e.code === 'commander.helpDisplayed') return helpShown(cli.helpText);
    throw e;
  }
  if (!cli.found) throw new UsageError(`nothing to run for ${JSON.stringify(args.join(' '))}`);
  return cli.found;
}
