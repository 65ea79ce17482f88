/**
 * The README's command tables against the CLI's definitions: every command the parser defines
 * is in a table with each of its options, and every command and option a table names exists.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { buildCli } from '../../electron/cli/commands';
import { commandPath } from '../../electron/cli/program';

const cli = buildCli();
const readme = readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');

interface Row {
  line: number;
  /** A command named in the row's first cell, e.g. `microlab policy apply FILE [--json]`. */
  span: string;
  /** Its path, as far as the words match commands: ["policy", "apply"]. */
  words: string[];
  cmd: CommandUnknownOpts | undefined;
  /** The whole row, where options are also described. */
  text: string;
}

/** The rows of every `| command | what it does |` table, one per command a first cell names. */
function readmeRows(): Row[] {
  const rows: Row[] = [];
  let inTable = false;
  readme.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (/^\|\s*command\s*\|\s*what it does\s*\|$/.test(line)) return void (inTable = true);
    if (!line.startsWith('|')) return void (inTable = false);
    if (!inTable || /^\|\s*-/.test(line)) return;
    const text = line.replace(/\\\|/g, '¦');
    const first = text.split('|')[1] ?? '';
    let base: string[] = [];
    for (const code of first.match(/`[^`]+`/g) ?? []) {
      const span = code.slice(1, -1).replace(/¦/g, '|');
      const given = span.split(/\s+/).filter((w) => w !== 'microlab');
      // `solve` after `microlab lab hint` is `lab solve`; `policy show` stands on its own.
      const top = cli.program.commands.some((c) => c.name() === given[0]);
      const words = top ? given : [...base, ...given];
      let cmd: CommandUnknownOpts | undefined = cli.program;
      const path: string[] = [];
      for (const word of words) {
        const next: CommandUnknownOpts | undefined = cmd.commands.find((c) => c.name() === word);
        if (!next) break;
        cmd = next;
        path.push(word);
      }
      if (!base.length) base = path.slice(0, -1);
      rows.push({
        line: i + 1,
        span,
        words: path,
        cmd: cmd === cli.program ? undefined : cmd,
        text: text.replace(/¦/g, '|'),
      });
    }
  });
  return rows;
}

const rows = readmeRows();
const leaves = cli.leaves();
const options = (cmd: CommandUnknownOpts) => cmd.options.map((o) => o.long!).filter((o) => o !== '--help');

describe("the README's command tables", () => {
  it('are found', () => {
    expect(rows.length).toBeGreaterThan(30);
  });

  it('name only commands that exist, with options they have', () => {
    const wrong: string[] = [];
    for (const row of rows) {
      if (!row.cmd || !leaves.includes(row.cmd)) {
        wrong.push(`README.md:${row.line}: \`${row.span}\` is no command`);
        continue;
      }
      for (const option of row.span.match(/--[a-z][a-z0-9-]*/g) ?? [])
        if (!options(row.cmd).includes(option))
          wrong.push(`README.md:${row.line}: ${commandPath(row.cmd)} has no option ${option}`);
    }
    expect(wrong).toEqual([]);
  });

  it('list every command the CLI defines, and each of its options', () => {
    const missing: string[] = [];
    for (const cmd of leaves) {
      const mine = rows.filter((r) => r.cmd === cmd);
      if (!mine.length) {
        missing.push(`${commandPath(cmd)}: not in a table`);
        continue;
      }
      for (const option of options(cmd))
        if (!mine.some((r) => new RegExp(`${option}(?![a-z-])`).test(r.text)))
          missing.push(`${commandPath(cmd)}: ${option} not in its row`);
    }
    expect(missing).toEqual([]);
  });
});
