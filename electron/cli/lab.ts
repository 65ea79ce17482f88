/**
 * The labs' CLI commands (lab, class, student), over the same API as the app. `lab check` exits 0 when every check of
 * the current step passes and 1 when one fails; commands that start a task (start, solve, reset,
 * do) show its progress and exit 1 when it fails. With --json, the API's answer as it is
 * (`lab list --json`: an array of labs; `lab status --json`: at least {lab, step, steps}).
 */
import path from 'node:path';
import type {
  AttackerFigures,
  CheckReport,
  ClassReport,
  Spread,
  StudentInfo,
  LabTable,
  ClassRow,
  LabList,
  LabStatus,
  LabSummary,
  MethodInput,
  MethodName,
  MethodOutput,
} from '../api/contract';
import { plural, printJson, printResult, table } from './output';
import type { Cli } from './program';
import { nonBlank, UsageError, wholeNumber } from './values';

type Call = <M extends MethodName>(method: M, input: MethodInput<M>) => Promise<MethodOutput<M>>;

const step = ['--step <N>', 'a step number, 1 to 100', wholeNumber('--step', 1, 100)] as const;
const json = ['--json', 'the answer as JSON'] as const;

export function labCommands(cli: Cli): void {
  const { program } = cli;
  const lab = cli.group(program, 'lab', 'the guided labs');

  cli
    .command(
      lab,
      'list',
      'the labs, their place on the map and your progress (exit 1: a lab file does not load)',
    )
    .option(...json)
    .action((o) =>
      cli.done({ name: 'lab-list', json: Boolean(o.json) }, async (c, rt) => {
        const list = await rt.call('labs:list', {});
        if (c.json) printJson(rt.out, list.labs);
        else rt.out.write(formatList(list));
        return list.errors.length ? 1 : 0;
      }),
    );

  cli
    .command(lab, 'start', "set the shop up for a lab (with --step, jump to step N's start)")
    .argument('<ID>', 'a lab, from `microlab lab list`')
    .option(...step)
    .action((id, o) =>
      cli.done({ name: 'lab-start', lab: id, ...(o.step ? { step: o.step } : {}) }, async (c, rt) => {
        const code = await rt.follow(() =>
          rt.call('labs:start', { lab: c.lab, ...(c.step ? { step: c.step } : {}) }),
        );
        if (code !== 0) return code;
        // What the lab is about, then where the student is: as the app shows it.
        const detail = await rt.call('labs:get', { lab: c.lab });
        rt.out.write(`\n${detail.title}\n\n${detail.intro.trim()}\n\n`);
        rt.out.write(await formatStatus(await rt.call('labs:status', {}), rt.call));
        return 0;
      }),
    );

  cli
    .command(lab, 'status', 'the active lab, its current step and what it asks')
    .option(...json)
    .action((o) =>
      cli.done({ name: 'lab-status', json: Boolean(o.json) }, async (c, rt) => {
        const status = await rt.call('labs:status', {});
        if (c.json) printJson(rt.out, status.lab ? status : { lab: null, step: null, steps: null });
        else rt.out.write(await formatStatus(status, rt.call));
        return 0;
      }),
    );

  cli
    .command(lab, 'check', 'check the current step against the real state (exit 1: not yet)')
    .option(...json)
    .action((o) =>
      cli.done({ name: 'lab-check', json: Boolean(o.json) }, async (c, rt) => {
        const report = await rt.call('labs:check', {});
        printResult(rt.out, c.json, report, formatCheck);
        return report.passed ? 0 : 1;
      }),
    );

  cli.command(lab, 'hint', 'the next hint for the current step').action(() =>
    cli.done({ name: 'lab-hint' }, async (_c, rt) => {
      const hint = await rt.call('labs:hint', {});
      rt.out.write(`Hint ${hint.index} of ${hint.of}: ${hint.text}\n`);
      return 0;
    }),
  );

  cli
    .command(lab, 'solve', '"Show me": bring the state to the step\'s goal (recorded as help)')
    .action(() => cli.done({ name: 'lab-solve' }, (_c, rt) => rt.follow(() => rt.call('labs:solve', {}))));

  cli
    .command(lab, 'reset', "back to the start of step N (default: the lab's start)")
    .option(...step)
    .action((o) =>
      cli.done({ name: 'lab-reset', ...(o.step ? { step: o.step } : {}) }, (c, rt) =>
        rt.follow(() => rt.call('labs:reset', c.step ? { step: c.step } : {})),
      ),
    );

  cli.command(lab, 'next', 'on to the next step, once this one passed').action(() =>
    cli.done({ name: 'lab-next' }, async (_c, rt) => {
      const status = await rt.call('labs:next', {});
      rt.out.write(await formatStatus(status, rt.call));
      return 0;
    }),
  );

  cli
    .command(lab, 'do', "run one of the step's actions (its id, from `lab status`)")
    .argument('<ACTION>', 'an action id, from `microlab lab status`')
    .action((action) =>
      cli.done({ name: 'lab-do', action }, (c, rt) =>
        rt.follow(() => rt.call('labs:action', { action: c.action })),
      ),
    );

  cli
    .command(lab, 'answer', "answer one of the step's questions")
    .argument('<QUESTION>', 'a question id, from `microlab lab status`')
    .argument('<ANSWER...>', 'the answer (its words are joined)')
    .action((question, words) =>
      cli.done({ name: 'lab-answer', question, answer: words.join(' ') }, async (c, rt) => {
        const status = await rt.call('labs:status', {});
        const detail = status.lab ? await rt.call('labs:get', { lab: status.lab }) : undefined;
        const current = detail?.steps[(status.step ?? 1) - 1];
        await rt.call('labs:answer', { question: c.question, answer: c.answer });
        rt.out.write(
          current?.predict.some((q) => q.id === c.question)
            ? `Prediction "${c.question}" recorded (final): now measure.\n`
            : current?.explain.some((q) => q.id === c.question)
              ? `Explanation "${c.question}" recorded; it is shown in your summary.\n`
              : `Answer to "${c.question}" recorded; \`microlab lab check\` checks it.\n`,
        );
        return 0;
      }),
    );

  cli
    .command(lab, 'summary', "your numbers next to the lab's claims: supported or not")
    .argument('[ID]', 'a lab (default: the active one)')
    .option(...json)
    .action((id, o) =>
      cli.done({ name: 'lab-summary', ...(id ? { lab: id } : {}), json: Boolean(o.json) }, async (c, rt) => {
        const which = c.lab ?? (await rt.call('labs:status', {})).lab;
        if (!which) {
          rt.out.write('No lab is active: name one, `microlab lab summary ID`.\n');
          return 1;
        }
        const summary = await rt.call('labs:summary', { lab: which });
        printResult(rt.out, c.json, summary, formatSummary);
        return 0;
      }),
    );

  cli
    .command(lab, 'table', "the 2×2: both attackers' figures per cell, from your runs")
    .option(...json)
    .action((o) =>
      cli.done({ name: 'lab-table', json: Boolean(o.json) }, async (c, rt) => {
        const t = await rt.call('labs:table', {});
        if (c.json)
          printJson(
            rt.out,
            t.cells.map((cell) => ({
              app: cell.app,
              network: cell.network,
              labs: cell.labs.map((l) => l.id),
              attackers: cell.attackers,
            })),
          );
        else rt.out.write(formatTable(t));
        return 0;
      }),
    );

  const progress = cli.group(lab, 'progress', 'your progress');
  cli
    .command(progress, 'export', 'your progress as JSON (FILE) and CSV beside it')
    .argument('<FILE>', 'the JSON file to write')
    .action((file) =>
      cli.done({ name: 'lab-export', file }, async (c, rt) => {
        const written = await rt.call('labs:export', { file: path.resolve(c.file) });
        rt.out.write(`wrote ${written.json} and ${written.csv}\n`);
        return 0;
      }),
    );

  const klass = cli.group(program, 'class', "the class's results, from the students' exported files");
  cli
    .command(klass, 'summary', 'one table of students × labs × steps from exported files')
    .argument('<FILES...>', 'exported progress files')
    .option(...json)
    .action((files, o) =>
      cli.done({ name: 'class-summary', files, json: Boolean(o.json) }, async (c, rt) => {
        const rows = await rt.call('labs:class', { files: c.files.map((f) => path.resolve(f)) });
        printResult(rt.out, c.json, rows, formatClass);
        return 0;
      }),
    );
  cli
    .command(
      klass,
      'report',
      "the class's numbers: per step completion, median time, hints and solves; per measure median and range; per claim how many students' numbers support it; the 2×2 as medians. --out DIR writes class-report.json and class-report.csv there",
    )
    .argument('[FILES...]', 'exported progress files')
    .option(...json)
    .option('--out <DIR>', 'write class-report.json and class-report.csv there', nonBlank('--out'))
    .option(
      '--class',
      "also the class this MicroLab hosts or hosted: its students' events as the host recorded them",
    )
    .action((files, o) => {
      if (files.length === 0 && !o.class)
        throw new UsageError(
          'class report needs FILES (exported progress files), or --class for the class this MicroLab hosts or hosted',
        );
      return cli.done(
        {
          name: 'class-report',
          files,
          json: Boolean(o.json),
          ...(o.class ? { live: true } : {}),
          ...(o.out !== undefined ? { out: o.out } : {}),
        },
        async (c, rt) => {
          const report = await rt.call('class:report', {
            files: c.files.map((f) => path.resolve(f)),
            ...(c.live ? { live: true } : {}),
            ...(c.out ? { out: path.resolve(c.out) } : {}),
          });
          printResult(rt.out, c.json, report, formatReport);
          return 0;
        },
      );
    });
  cli
    .command(
      klass,
      'guide',
      "the instructor's guide (Markdown; a printable HTML page with --html) from the lab files and the measured figures: claims and the article's sentences, steps with their machine time, each measure's expected range, predictions, answer key, known failure modes",
    )
    .option('--out <FILE>', 'write the guide there', nonBlank('--out'))
    .option('--html <FILE>', 'write the printable HTML page there', nonBlank('--html'))
    .option(
      '--track <NAME>',
      'only the labs of this track (labs/guides/tracks.yaml; default: all)',
      nonBlank('--track'),
    )
    .action((o) =>
      cli.done(
        {
          name: 'class-guide',
          ...(o.out !== undefined ? { out: o.out } : {}),
          ...(o.html !== undefined ? { html: o.html } : {}),
          ...(o.track !== undefined ? { track: o.track } : {}),
        },
        async (c, rt) => {
          const guide = await rt.call('class:guide', {
            ...(c.out ? { out: path.resolve(c.out) } : {}),
            ...(c.html ? { html: path.resolve(c.html) } : {}),
            ...(c.track ? { track: c.track } : {}),
          });
          if (guide.written) rt.out.write(`wrote ${guide.written}\n`);
          if (guide.html) rt.out.write(`wrote ${guide.html}\n`);
          if (!guide.written && !guide.html) rt.out.write(guide.markdown);
          return 0;
        },
      ),
    );

  const student = cli
    .command(program, 'student', 'who this progress belongs to (your name, as exports carry it)')
    .option(...json)
    .action((o, self) => {
      if (self.args[0] !== undefined)
        throw new UsageError(
          `unknown student command ${JSON.stringify(self.args[0])}: student, or student set NAME [--id ID]`,
        );
      cli.done({ name: 'student-show', json: Boolean(o.json) }, async (c, rt) => {
        const info = await rt.call('student:get', {});
        printResult(rt.out, c.json, info, formatStudent);
        return 0;
      });
    });
  cli.synopsis(student, 'student [--json]');
  cli
    .command(student, 'set', 'set your name (and student id): every export carries it')
    .argument('<NAME...>', 'your name: student set "Ana Lima"')
    .option('--id <ID>', 'your student id')
    .action((words, o) => {
      const name = words.join(' ').trim();
      if (!name) throw new UsageError('student set needs your NAME: student set "Ana Lima" [--id s1234]');
      cli.done(
        { name: 'student-set', student: name, ...(o.id !== undefined ? { id: o.id } : {}) },
        async (c, rt) => {
          const info = await rt.call('student:set', {
            name: c.student,
            ...(c.id !== undefined ? { id: c.id } : {}),
          });
          rt.out.write(
            info.source === 'env'
              ? `Saved ${c.student}${c.id ? ` (id ${c.id})` : ''}, but here MICROLAB_STUDENT names you ${info.student!.name}${info.student!.id ? ` (id ${info.student!.id})` : ''}, over it: exports made here carry that.\n`
              : formatStudent(info),
          );
          return 0;
        },
      );
    });
}

const OUTCOME = { passed: '✔', solved: '?', pending: ' ' } as const;
const VERDICT = { supported: '✔', 'not-supported': '✘', 'not-measured': '·' } as const;

/** The 2×2 with both attackers' figures per cell: "jumpbox 3 workloads, 5 domains". */
function formatTable(t: LabTable): string {
  const figure = (f: AttackerFigures | null) =>
    f
      ? [
          f.workloads !== null && plural(f.workloads, 'workload'),
          f.databases !== null && plural(f.databases, 'database'),
          f.domains !== null && plural(f.domains, 'data domain'),
        ]
          .filter(Boolean)
          .join(', ') + `  (${f.lab}, step ${f.step})`
      : 'not measured yet';
  const lines: string[] = [];
  for (const c of t.cells) {
    if (!c.labs.length && !Object.values(c.attackers).some(Boolean)) continue;
    lines.push(`${c.app} × ${c.network}${c.labs.length ? `  [${c.labs.map((l) => l.id).join(', ')}]` : ''}`);
    lines.push(
      ...table(
        Object.entries(c.attackers).map(([attacker, f]) => [attacker, figure(f)]),
        { indent: '  ' },
      ),
    );
    for (const l of c.labs)
      for (const claim of l.claims) lines.push(`  ${VERDICT[claim.verdict]} ${claim.text}`);
    lines.push('');
  }
  lines.push('(✔ supported by your numbers, ✘ not supported, · not measured yet)');
  return lines.join('\n') + '\n';
}

function formatList(list: LabList): string {
  // Each lab on two lines: its row of the table, then its title.
  const rows = table(
    list.labs.map((l) => [
      `${l.order}.`,
      l.id,
      `${l.quadrant.app} × ${l.quadrant.network}`,
      `${l.coreMinutes < l.minutes ? `${l.coreMinutes}-` : ''}${l.minutes} min`,
      `${l.stepsPassed + l.stepsSolved}/${l.steps} steps`,
      l.state,
    ]),
    { align: ['right', 'left', 'left', 'right', 'right'], gap: [' ', ' ', ' ', '  ', '  '] },
  );
  const lines = list.labs.map((l, i) => `${rows[i]}\n      ${l.title}`);
  for (const e of list.errors) {
    lines.push(`✘ ${e.id}: this lab file does not load`);
    for (const i of e.issues) lines.push(`    ${i.file}:${i.line}:${i.column}: ${i.message}`);
  }
  return lines.join('\n') + '\n';
}

async function formatStatus(status: LabStatus, call: Call): Promise<string> {
  if (!status.lab)
    return 'No lab is active. `microlab lab list` shows them; `microlab lab start ID` starts one.\n';
  const detail = await call('labs:get', { lab: status.lab });
  const step = detail.steps[(status.step ?? 1) - 1]!;
  const lines = [
    `${detail.title}: step ${status.step} of ${status.steps} — ${step.title} (${status.current?.outcome ?? 'pending'}, ${status.current?.attempts ?? 0} checks run)`,
    '',
    step.text.trim(),
    '',
  ];
  if (step.actions.length) {
    lines.push('Actions (`microlab lab do ID`):');
    lines.push(
      ...table(
        step.actions.map((a) => [
          a.id,
          `${a.label}${a.action.kind === 'terminal' ? ' (in the app, or `microlab shell`)' : ''}`,
        ]),
        { indent: '  ' },
      ),
    );
  }
  if (step.predict.length) {
    const recorded = status.current?.predictions ?? {};
    lines.push('Predict first (`microlab lab answer ID ANSWER`; final once recorded):');
    lines.push(
      ...table(
        step.predict.map((q) => [
          q.id,
          `${q.text.trim()}${q.choices ? ` [${q.choices.join(' | ')}]` : ''}${recorded[q.id] ? `  → you predicted: ${recorded[q.id]!.answer}` : ''}`,
        ]),
        { indent: '  ' },
      ),
    );
  }
  if (step.explain.length)
    lines.push(
      'Then explain (`microlab lab answer ID TEXT`, once the step passed):',
      ...table(
        step.explain.map((q) => [q.id, q.text.trim()]),
        { indent: '  ' },
      ),
    );
  if (step.questions.length) {
    lines.push('Questions (`microlab lab answer ID ANSWER`):');
    lines.push(
      ...table(
        step.questions.map((q) => [
          q.id,
          `${q.text.trim()}${q.choices ? ` [${q.choices.join(' | ')}]` : ''}`,
        ]),
        { indent: '  ' },
      ),
    );
  }
  lines.push('Checks (`microlab lab check`):', ...step.checks.map((c) => `  - ${c.description}`));
  if (detail.workspace.files.length || step.views.includes('editor'))
    lines.push(`Workspace: ${detail.workspace.dir}`);
  return lines.join('\n') + '\n';
}

function formatCheck(report: CheckReport): string {
  const lines = report.results.map((r) => `${r.passed ? '✔' : '✘'} ${r.description}\n    ${r.message}`);
  for (const m of report.measurements) lines.push(`  recorded: ${m.label}: ${m.value} ${m.unit}`);
  for (const m of report.notRecorded) lines.push(`  not recorded: ${m}`);
  lines.push(
    report.passed
      ? `Step ${report.step} ${report.outcome === 'solved' ? 'checks pass (solved with help)' : 'passed'}. ${
          report.step >= report.steps
            ? 'That was the last step: the lab is complete. `microlab lab summary` shows what you measured.'
            : '`microlab lab next` moves on.'
        }`
      : `Step ${report.step}: not yet.`,
  );
  return lines.join('\n') + '\n';
}

function formatSummary(summary: LabSummary): string {
  const lines = [
    `${summary.title} (${summary.quadrant.app} × ${summary.quadrant.network}): ${summary.state}`,
    '',
  ];
  for (const c of summary.claims) {
    lines.push(`${VERDICT[c.verdict]} ${c.text}`);
    if (c.article) lines.push(`    the article: “${c.article}”`);
    for (const m of c.measurements) lines.push(`    ${m.label}: ${m.value} ${m.unit}`);
    for (const r of c.relations)
      lines.push(
        `    ${r.holds === null ? '·' : r.holds ? '✔' : '✘'} ${r.text}${r.left !== undefined ? `  (${r.left} vs ${r.right})` : ''}`,
      );
    if (c.prediction) lines.push(`    you predicted: ${c.prediction.answer ?? '(no prediction recorded)'}`);
  }
  lines.push('  (✔ supported by your numbers, ✘ not supported, · not measured yet)');
  lines.push('', 'Steps:');
  for (const s of summary.steps)
    lines.push(
      `  [${OUTCOME[s.outcome]}] ${s.title}  ${plural(s.attempts, 'check')}, ${plural(s.hintsShown, 'hint')}${s.seconds !== undefined ? `, ${s.seconds} s` : ''}`,
    );
  lines.push('  (✔ passed, ? solved with help)');
  return lines.join('\n') + '\n';
}

function formatClass(rows: ClassRow[]): string {
  const lines = table(
    [
      ['STUDENT', 'LAB', 'STEP', 'OUTCOME', 'CHECKS', 'HINTS', 'MEASUREMENTS'],
      ...rows.map((r) => [
        r.studentId ? `${r.student} (${r.studentId})` : r.student,
        r.lab,
        r.step,
        r.outcome,
        r.attempts,
        r.hintsShown,
        Object.entries(r.measurements)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      ]),
    ],
    { align: ['left', 'left', 'left', 'left', 'right', 'right'], gap: [' ', ' ', ' ', ' ', ' ', '  '] },
  );
  return lines.join('\n') + '\n';
}

function formatStudent(info: StudentInfo): string {
  if (!info.student)
    return 'No student name is set: exports carry none, and a class report names them by file.\nSet yours: `microlab student set "Your Name" [--id ID]`.\n';
  const who = `${info.student.name}${info.student.id ? ` (id ${info.student.id})` : ''}`;
  return info.source === 'env'
    ? `Student: ${who}, from MICROLAB_STUDENT (it overrides the name set with \`microlab student set\`).\n`
    : `Student: ${who}. Every progress export carries it.\n`;
}

/** "12 s", "3 min 5 s". */
function duration(seconds: number | null): string {
  if (seconds === null) return '-';
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
}

/** "11 (10–12, 3 students)", "-" when nobody measured it. */
function spread(s: Spread, unit = ''): string {
  if (s.median === null) return 'not measured';
  const range = s.min === s.max ? '' : `${s.min}–${s.max}, `;
  return `${s.median}${unit ? ` ${unit}` : ''} (${range}${plural(s.n, 'student')})`;
}

function formatReport(report: ClassReport): string {
  const n = report.students.length;
  const lines = [
    `Class report: ${plural(n, 'student')}: ${report.students.map((s) => (s.id ? `${s.name} (${s.id})` : s.name)).join(', ')}`,
  ];
  for (const note of report.notes) lines.push(`  note: ${note}`);
  for (const lab of report.labs) {
    if (!lab.started) continue;
    lines.push(
      '',
      `${lab.title} [${lab.lab}] (${lab.quadrant.app} × ${lab.quadrant.network}): ${lab.started} of ${n} started, ${lab.completed} completed`,
      ...table(
        [
          ['STEP', 'DONE', 'SHOW ME', 'MEDIAN TIME', 'HINTS'],
          ...lab.steps.map((s) => [
            `${s.id}${s.optional ? ' (opt.)' : ''}`,
            `${s.done}/${n}`,
            s.solved,
            duration(s.medianSeconds),
            `${s.hints}${s.hints ? ` (${plural(s.studentsWithHints, 'student')})` : ''}`,
          ]),
        ],
        { indent: '  ', align: ['left', 'right', 'right', 'right'], gap: [' ', ' ', ' ', '  '] },
      ),
    );
    const measured = lab.measures.filter((m) => m.spread.n > 0);
    if (measured.length) {
      lines.push('  Measures (median, range, students):');
      for (const m of measured) lines.push(`    ${m.label}: ${spread(m.spread, m.unit)}`);
    }
    if (lab.claims.length) {
      lines.push('  Claims (students whose numbers: ✔ support it, ✘ contradict it, · did not measure it):');
      for (const c of lab.claims)
        lines.push(
          `    ✔ ${c.supported}  ✘ ${c.notSupported}  · ${c.notMeasured}  ${c.text}`,
          `      (${c.holds.join('; ')})`,
        );
    }
  }
  const cells = report.table.filter((c) => Object.values(c.attackers).some(Boolean));
  if (cells.length) {
    lines.push('', 'The 2×2 (class medians; range and students in brackets):');
    for (const c of cells) {
      lines.push(`  ${c.app} × ${c.network}${c.labs.length ? `  [${c.labs.join(', ')}]` : ''}`);
      lines.push(
        ...table(
          Object.entries(c.attackers).map(([attacker, f]) => [
            attacker,
            f
              ? `workloads ${spread(f.workloads)}, databases ${spread(f.databases)}, data domains ${spread(f.domains)}`
              : 'not measured',
          ]),
          { indent: '    ' },
        ),
      );
    }
  }
  if (report.written) lines.push('', `wrote ${report.written.json} and ${report.written.csv}`);
  return lines.join('\n') + '\n';
}
