/**
 * The labs' CLI commands, over the same API as the app. `lab check` exits 0 when every check of
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
  TaskInfo,
} from '../api/contract';
import type { LabCommand } from './lab-args';

type Call = <M extends MethodName>(method: M, input: MethodInput<M>) => Promise<MethodOutput<M>>;
type Out = NodeJS.WritableStream;
/** Shows a task's progress until it ends; returns the exit code (0, 1, 130). */
type Follow = (start: () => Promise<TaskInfo>) => Promise<number>;

export async function runLabCommand(
  command: LabCommand,
  call: Call,
  follow: Follow,
  out: Out,
): Promise<number> {
  const print = (value: unknown) => out.write(`${JSON.stringify(value, null, 2)}\n`);
  switch (command.name) {
    case 'lab-list': {
      const list = await call('labs:list', {});
      if (command.json) print(list.labs);
      else out.write(formatList(list));
      return list.errors.length ? 1 : 0;
    }
    case 'lab-start': {
      const code = await follow(() =>
        call('labs:start', { lab: command.lab, ...(command.step ? { step: command.step } : {}) }),
      );
      if (code !== 0) return code;
      // What the lab is about, then where the student is: as the app shows it.
      const detail = await call('labs:get', { lab: command.lab });
      out.write(`\n${detail.title}\n\n${detail.intro.trim()}\n\n`);
      out.write(await formatStatus(await call('labs:status', {}), call));
      return 0;
    }
    case 'lab-status': {
      const status = await call('labs:status', {});
      if (command.json) print(status.lab ? status : { lab: null, step: null, steps: null });
      else out.write(await formatStatus(status, call));
      return 0;
    }
    case 'lab-check': {
      const report = await call('labs:check', {});
      if (command.json) print(report);
      else out.write(formatCheck(report));
      return report.passed ? 0 : 1;
    }
    case 'lab-hint': {
      const hint = await call('labs:hint', {});
      out.write(`Hint ${hint.index} of ${hint.of}: ${hint.text}\n`);
      return 0;
    }
    case 'lab-solve':
      return follow(() => call('labs:solve', {}));
    case 'lab-reset':
      return follow(() => call('labs:reset', command.step ? { step: command.step } : {}));
    case 'lab-next': {
      const status = await call('labs:next', {});
      out.write(await formatStatus(status, call));
      return 0;
    }
    case 'lab-do':
      return follow(() => call('labs:action', { action: command.action }));
    case 'lab-answer': {
      const status = await call('labs:status', {});
      const detail = status.lab ? await call('labs:get', { lab: status.lab }) : undefined;
      const step = detail?.steps[(status.step ?? 1) - 1];
      await call('labs:answer', { question: command.question, answer: command.answer });
      out.write(
        step?.predict.some((q) => q.id === command.question)
          ? `Prediction "${command.question}" recorded (final): now measure.\n`
          : step?.explain.some((q) => q.id === command.question)
            ? `Explanation "${command.question}" recorded; it is shown in your summary.\n`
            : `Answer to "${command.question}" recorded; \`microlab lab check\` checks it.\n`,
      );
      return 0;
    }
    case 'lab-summary': {
      const lab = command.lab ?? (await call('labs:status', {})).lab;
      if (!lab) {
        out.write('No lab is active: name one, `microlab lab summary ID`.\n');
        return 1;
      }
      const summary = await call('labs:summary', { lab });
      if (command.json) print(summary);
      else out.write(formatSummary(summary));
      return 0;
    }
    case 'lab-table': {
      const t = await call('labs:table', {});
      if (command.json)
        print(
          t.cells.map((c) => ({
            app: c.app,
            network: c.network,
            labs: c.labs.map((l) => l.id),
            attackers: c.attackers,
          })),
        );
      else out.write(formatTable(t));
      return 0;
    }
    case 'lab-export': {
      const written = await call('labs:export', { file: path.resolve(command.file) });
      out.write(`wrote ${written.json} and ${written.csv}\n`);
      return 0;
    }
    case 'class-summary': {
      const rows = await call('labs:class', { files: command.files.map((f) => path.resolve(f)) });
      if (command.json) print(rows);
      else out.write(formatClass(rows));
      return 0;
    }
    case 'class-report': {
      const report = await call('class:report', {
        files: command.files.map((f) => path.resolve(f)),
        ...(command.out ? { out: path.resolve(command.out) } : {}),
      });
      if (command.json) print(report);
      else out.write(formatReport(report));
      return 0;
    }
    case 'class-guide': {
      const guide = await call('class:guide', command.out ? { out: path.resolve(command.out) } : {});
      out.write(guide.written ? `wrote ${guide.written}\n` : guide.markdown);
      return 0;
    }
    case 'student-show': {
      const info = await call('student:get', {});
      if (command.json) print(info);
      else out.write(formatStudent(info));
      return 0;
    }
    case 'student-set': {
      const info = await call('student:set', {
        name: command.student,
        ...(command.id !== undefined ? { id: command.id } : {}),
      });
      out.write(
        info.source === 'env'
          ? `Saved ${command.student}${command.id ? ` (id ${command.id})` : ''}, but here MICROLAB_STUDENT names you ${info.student!.name}${info.student!.id ? ` (id ${info.student!.id})` : ''}, over it: exports made here carry that.\n`
          : formatStudent(info),
      );
      return 0;
    }
  }
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
    for (const [attacker, f] of Object.entries(c.attackers))
      lines.push(`  ${attacker.padEnd(13)} ${figure(f)}`);
    for (const l of c.labs)
      for (const claim of l.claims) lines.push(`  ${VERDICT[claim.verdict]} ${claim.text}`);
    lines.push('');
  }
  lines.push('(✔ supported by your numbers, ✘ not supported, · not measured yet)');
  return lines.join('\n') + '\n';
}

function formatList(list: LabList): string {
  const lines = list.labs.map(
    (l) =>
      `${String(l.order).padStart(2)}. ${l.id.padEnd(26)} ${`${l.quadrant.app} × ${l.quadrant.network}`.padEnd(28)} ${`${l.coreMinutes < l.minutes ? `${l.coreMinutes}-` : ''}${l.minutes}`.padStart(5)} min  ${l.stepsPassed + l.stepsSolved}/${l.steps} steps  ${l.state}\n      ${l.title}`,
  );
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
    for (const a of step.actions)
      lines.push(
        `  ${a.id.padEnd(16)} ${a.label}${a.action.kind === 'terminal' ? ' (in the app, or `microlab shell`)' : ''}`,
      );
  }
  if (step.predict.length) {
    const recorded = status.current?.predictions ?? {};
    lines.push('Predict first (`microlab lab answer ID ANSWER`; final once recorded):');
    for (const q of step.predict)
      lines.push(
        `  ${q.id.padEnd(16)} ${q.text.trim()}${q.choices ? ` [${q.choices.join(' | ')}]` : ''}${recorded[q.id] ? `  → you predicted: ${recorded[q.id]!.answer}` : ''}`,
      );
  }
  if (step.explain.length)
    lines.push(
      'Then explain (`microlab lab answer ID TEXT`, once the step passed):',
      ...step.explain.map((q) => `  ${q.id.padEnd(16)} ${q.text.trim()}`),
    );
  if (step.questions.length) {
    lines.push('Questions (`microlab lab answer ID ANSWER`):');
    for (const q of step.questions)
      lines.push(`  ${q.id.padEnd(16)} ${q.text.trim()}${q.choices ? ` [${q.choices.join(' | ')}]` : ''}`);
  }
  lines.push('Checks (`microlab lab check`):', ...step.checks.map((c) => `  - ${c.description}`));
  if (detail.workspace.files.length || step.views.includes('editor'))
    lines.push(`Workspace: ${detail.workspace.dir}`);
  return lines.join('\n') + '\n';
}

/** "1 check", "3 checks". */
function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
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
  const lines = [
    `${'STUDENT'.padEnd(16)} ${'LAB'.padEnd(26)} ${'STEP'.padEnd(14)} ${'OUTCOME'.padEnd(8)} CHECKS HINTS  MEASUREMENTS`,
    ...rows.map(
      (r) =>
        `${(r.studentId ? `${r.student} (${r.studentId})` : r.student).padEnd(16)} ${r.lab.padEnd(26)} ${r.step.padEnd(14)} ${r.outcome.padEnd(8)} ${String(r.attempts).padStart(6)} ${String(r.hintsShown).padStart(5)}  ${Object.entries(
          r.measurements,
        )
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}`,
    ),
  ];
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
      `  ${'STEP'.padEnd(22)} ${'DONE'.padStart(7)} ${'SHOW ME'.padStart(7)} ${'MEDIAN TIME'.padStart(12)}  HINTS`,
    );
    for (const s of lab.steps)
      lines.push(
        `  ${`${s.id}${s.optional ? ' (opt.)' : ''}`.padEnd(22)} ${`${s.done}/${n}`.padStart(7)} ${String(s.solved).padStart(7)} ${duration(s.medianSeconds).padStart(12)}  ${s.hints}${s.hints ? ` (${plural(s.studentsWithHints, 'student')})` : ''}`,
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
      for (const [attacker, f] of Object.entries(c.attackers))
        lines.push(
          `    ${attacker.padEnd(13)} ${
            f
              ? `workloads ${spread(f.workloads)}, databases ${spread(f.databases)}, data domains ${spread(f.domains)}`
              : 'not measured'
          }`,
        );
    }
  }
  if (report.written) lines.push('', `wrote ${report.written.json} and ${report.written.csv}`);
  return lines.join('\n') + '\n';
}
