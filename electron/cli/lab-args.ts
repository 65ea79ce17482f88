/**
 * The labs' CLI grammar: `lab list|start|status|check|hint|solve|reset|next|do|answer|summary|table`,
 * `lab progress export FILE`, `class summary|report FILES...` and `student [set NAME]`. Pure, like args.ts, which hands these
 * commands over (with its UsageError, so this file does not import args.ts back).
 */
import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';

type Fail = (message: string) => never;

export type LabCommand =
  | { name: 'lab-list'; json: boolean }
  | { name: 'lab-start'; lab: string; step?: number }
  | { name: 'lab-status'; json: boolean }
  | { name: 'lab-check'; json: boolean }
  | { name: 'lab-hint' }
  | { name: 'lab-solve' }
  | { name: 'lab-reset'; step?: number }
  | { name: 'lab-next' }
  | { name: 'lab-do'; action: string }
  | { name: 'lab-answer'; question: string; answer: string }
  | { name: 'lab-summary'; lab?: string; json: boolean }
  | { name: 'lab-table'; json: boolean }
  | { name: 'lab-export'; file: string }
  | { name: 'class-summary'; files: string[]; json: boolean }
  | { name: 'class-report'; files: string[]; json: boolean; out?: string }
  | { name: 'class-guide'; out?: string }
  | { name: 'student-show'; json: boolean }
  | { name: 'student-set'; student: string; id?: string };

export const LAB_USAGE = `  lab list [--json]               the labs, their place on the map and your progress
  lab start ID [--step N]         set the shop up for a lab (with --step, jump to step N's start)
  lab status [--json]             the active lab, its current step and what it asks
  lab check [--json]              check the current step against the real state (exit 1: not yet)
  lab hint                        the next hint for the current step
  lab solve                       "Show me": bring the state to the step's goal (recorded as help)
  lab reset [--step N]            back to the start of step N (default: the lab's start)
  lab next                        on to the next step, once this one passed
  lab do ACTION                   run one of the step's actions (its id, from \`lab status\`)
  lab answer QUESTION ANSWER      answer one of the step's questions
  lab summary [ID] [--json]       your numbers next to the lab's claims: supported or not
  lab table [--json]              the 2×2: both attackers' figures per cell, from your runs
  lab progress export FILE        your progress as JSON (FILE) and CSV beside it
  class summary FILES... [--json] one table of students × labs × steps from exported files
  class report FILES... [--json] [--out DIR]
                                  the class's numbers: per step completion, median time, hints
                                  and solves; per measure median and range; per claim how many
                                  students' numbers support it; the 2×2 as medians. --out DIR
                                  writes class-report.json and class-report.csv there
  class guide [--out FILE]        the instructor's guide (Markdown) from the lab files: claims and
                                  the article's sentences, steps, minutes, predictions, answer key
  student [--json]                who this progress belongs to (your name, as exports carry it)
  student set NAME [--id ID]      set your name (and student id): every export carries it`;

type Options = NonNullable<ParseArgsConfig['options']>;

function parse<const O extends Options>(fail: Fail, args: string[], options: O, min: number, max: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    fail((err as Error).message.replace(/\. To specify a positional.*$/, ''));
  }
  if (parsed.positionals.length > max) fail(`unexpected argument ${JSON.stringify(parsed.positionals[max])}`);
  if (parsed.positionals.length < min) fail('missing argument');
  return parsed;
}

const json = { json: { type: 'boolean' as const } };
const step = { step: { type: 'string' as const } };

function stepNumber(fail: Fail, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100)
    fail(`--step must be a step number from 1, not ${JSON.stringify(value)}`);
  return Number(value);
}

export function parseLabCommand(first: 'lab' | 'class' | 'student', args: string[], fail: Fail): LabCommand {
  const [sub, ...rest] = args;
  if (first === 'class') {
    if (sub === 'summary') {
      const { values, positionals } = parse(fail, rest, json, 0, 1000);
      if (!positionals.length) fail('class summary needs one or more exported progress FILES');
      return { name: 'class-summary', files: positionals, json: Boolean(values.json) };
    }
    if (sub === 'report') {
      const { values, positionals } = parse(fail, rest, { ...json, out: { type: 'string' } }, 0, 1000);
      if (!positionals.length) fail('class report needs one or more exported progress FILES');
      if (values.out !== undefined && !values.out.trim()) fail('--out needs a folder');
      return {
        name: 'class-report',
        files: positionals,
        json: Boolean(values.json),
        ...(values.out !== undefined ? { out: values.out } : {}),
      };
    }
    if (sub === 'guide') {
      const { values } = parse(fail, rest, { out: { type: 'string' } }, 0, 0);
      if (values.out !== undefined && !values.out.trim()) fail('--out needs a FILE');
      return { name: 'class-guide', ...(values.out !== undefined ? { out: values.out } : {}) };
    }
    return fail('class needs a command: class summary FILES..., class report FILES... or class guide');
  }
  if (first === 'student') {
    if (sub === undefined || sub.startsWith('-'))
      return { name: 'student-show', json: Boolean(parse(fail, args, json, 0, 0).values.json) };
    if (sub !== 'set')
      fail(`unknown student command ${JSON.stringify(sub)}: student, or student set NAME [--id ID]`);
    const { values, positionals } = parse(fail, rest, { id: { type: 'string' } }, 0, 20);
    const name = positionals.join(' ').trim();
    if (!name) fail('student set needs your NAME: student set "Ana Lima" [--id s1234]');
    return { name: 'student-set', student: name, ...(values.id !== undefined ? { id: values.id } : {}) };
  }
  switch (sub) {
    case 'list':
    case 'status':
    case 'check':
    case 'table':
      return { name: `lab-${sub}`, json: Boolean(parse(fail, rest, json, 0, 0).values.json) };
    case 'hint':
    case 'solve':
    case 'next':
      parse(fail, rest, {}, 0, 0);
      return { name: `lab-${sub}` };
    case 'start': {
      const { values, positionals } = parse(fail, rest, step, 0, 1);
      if (!positionals[0]) fail('lab start needs a lab ID (see `microlab lab list`)');
      const n = stepNumber(fail, values.step);
      return { name: 'lab-start', lab: positionals[0]!, ...(n ? { step: n } : {}) };
    }
    case 'reset': {
      const n = stepNumber(fail, parse(fail, rest, step, 0, 0).values.step);
      return { name: 'lab-reset', ...(n ? { step: n } : {}) };
    }
    case 'do': {
      const { positionals } = parse(fail, rest, {}, 0, 1);
      if (!positionals[0]) fail('lab do needs an ACTION id (see `microlab lab status`)');
      return { name: 'lab-do', action: positionals[0]! };
    }
    case 'answer': {
      const { positionals } = parse(fail, rest, {}, 0, 100);
      if (positionals.length < 2) fail('lab answer needs a QUESTION id and an ANSWER');
      return { name: 'lab-answer', question: positionals[0]!, answer: positionals.slice(1).join(' ') };
    }
    case 'summary': {
      const { values, positionals } = parse(fail, rest, json, 0, 1);
      return {
        name: 'lab-summary',
        ...(positionals[0] ? { lab: positionals[0] } : {}),
        json: Boolean(values.json),
      };
    }
    case 'progress': {
      const [verb, ...more] = rest;
      if (verb !== 'export') fail('lab progress needs a command: lab progress export FILE');
      const { positionals } = parse(fail, more, {}, 0, 1);
      if (!positionals[0]) fail('lab progress export needs a FILE');
      return { name: 'lab-export', file: positionals[0]! };
    }
    default:
      return fail(
        sub
          ? `unknown lab command ${JSON.stringify(sub)}`
          : 'lab needs a command: list, start, status, check, hint, solve, reset, next, do, answer, summary, table, progress',
      );
  }
}
