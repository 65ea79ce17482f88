/**
 * The terminal's CLI grammar: `shell WORKLOAD [--firewall] [--replica N]` and
 * `exec WORKLOAD [--firewall] [--replica N] -- CMD...`. Pure, like args.ts, which hands these
 * commands over with its UsageError.
 */
import { parseArgs } from 'node:util';

type Fail = (message: string) => never;

export interface TerminalCommandTarget {
  workload: string;
  replica?: number;
  firewall: boolean;
}

export type TerminalCommand =
  ({ name: 'shell' } & TerminalCommandTarget) | ({ name: 'exec'; command: string[] } & TerminalCommandTarget);

export const TERMINAL_USAGE = `  shell WORKLOAD [--firewall] [--replica N]
                                  a shell in a workload (as its app's user) or, with --firewall,
                                  in its firewall (root, NET_ADMIN: nft list ruleset): the pod's
                                  holder, or behind the perimeter the router
  exec WORKLOAD [--firewall] [--replica N] -- CMD...
                                  run one command there, print its output, pass its exit code on`;

const WORKLOAD = /^[a-z][a-z0-9-]{0,62}$/;

export function parseTerminalCommand(name: 'shell' | 'exec', argv: string[], fail: Fail): TerminalCommand {
  const dashes = argv.indexOf('--');
  const own = dashes === -1 ? argv : argv.slice(0, dashes);
  const command = dashes === -1 ? [] : argv.slice(dashes + 1);
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      options: { firewall: { type: 'boolean' }, replica: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    return fail((err as Error).message.replace(/\. To specify a positional.*$/, ''));
  }
  const [workload, extra] = parsed.positionals;
  const example = name === 'shell' ? 'shell catalog' : 'exec catalog -- id';
  if (!workload) return fail(`${name} needs a WORKLOAD: ${example}`);
  if (!WORKLOAD.test(workload))
    return fail(`${JSON.stringify(workload)} is not a workload name (like catalog)`);
  if (extra !== undefined) {
    return fail(
      name === 'exec'
        ? `put the command after --: exec ${workload} -- ${parsed.positionals.slice(1).join(' ')}`
        : `unexpected argument ${JSON.stringify(extra)}`,
    );
  }
  const target: TerminalCommandTarget = { workload, firewall: Boolean(parsed.values.firewall) };
  if (parsed.values.replica !== undefined) {
    const text = parsed.values.replica;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1 || n > 100)
      return fail(`--replica must be a whole number from 1 to 100, not ${JSON.stringify(text)}`);
    target.replica = n;
  }
  if (name === 'shell') {
    if (dashes !== -1) return fail('shell takes no command: use exec WORKLOAD -- CMD...');
    return { name, ...target };
  }
  if (!command.length) return fail(`exec needs a command after --: ${example}`);
  return { name, ...target, command };
}
