/**
 * Every command of `microlab`, gathered from their groups' definitions: the one place parsing,
 * help and the README's command tables are checked against.
 */
import { classLiveCommands } from './class-live';
import { deployCommands } from './deploy';
import { exportCommands } from './export';
import { firewallCommands } from './firewall';
import { labCommands } from './lab';
import { Cli, parseWith } from './program';
import type { Parsed } from './program';
import { systemCommands } from './system';
import { terminalCommands } from './terminal';

/** A fresh command tree (commander keeps parsed values on it, so one per parse). */
export function buildCli(): Cli {
  const cli = new Cli();
  systemCommands(cli);
  deployCommands(cli);
  firewallCommands(cli);
  terminalCommands(cli);
  labCommands(cli);
  classLiveCommands(cli);
  exportCommands(cli);
  return cli;
}

/** argv (without node and the script) to the command and its handler; throws UsageError. */
export function parse(argv: readonly string[]): Parsed {
  return parseWith(buildCli(), argv);
}

/** argv to the command's value alone: what the grammar's tests compare. */
export function parseCommand(argv: readonly string[]): Parsed['value'] {
  return parse(argv).value;
}
