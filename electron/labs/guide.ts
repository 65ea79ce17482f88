/**
 * The instructor's guide, written from the lab files (pure): per lab, where it sits, its time
 * (all steps and the core ones), what it claims with the article's sentence each claim tests
 * and the relation the students' numbers must show, its steps (core or optional), the
 * predictions asked before measuring and the why questions asked after, and the answer key
 * where answers are the same for everyone (answers read off a student's own system are said to
 * be per student, with where they are read); given a live class's students, each student's own
 * answers where the values are seeded (the database password).
 */
import type { DeploymentName } from '../api/contract';
import type { ActionEntry, Lab, LabCheck, LabStep } from './format';
import { actionOf } from './format';
import { machineName, spread } from './figures';
import type { LabFigures } from './figures';
import type { Track } from './tracks';

/** What the guide is written for: a track of labs, and the figures a labs benchmark recorded. */
export interface GuideOptions {
  /** The class this MicroLab hosts: each lab whose answers are seeded gets its per-student key. */
  seeded?: SeededAnswers;
  /** Absent: every lab, all steps. */
  track?: Track;
  /** labs/guides/figures.json (electron/labs/figures.ts); absent: every figure "not measured yet". */
  figures?: LabFigures;
}

/** A number as the guide prints it: at most 3 significant digits past the integer part. */
function num(x: number): string {
  return Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(3)));
}

/** "median X unit (range A–B, n runs)", or "X unit (1 run)". */
function expected(values: number[], unit: string): string {
  const { median, min, max, n } = spread(values);
  return n === 1
    ? `${num(median)} ${unit} (1 run)`
    : `median ${num(median)} ${unit} (range ${num(min)}–${num(max)}, ${n} runs)`;
}

/**
 * A live class's students and the values their seeds give (what the per-student key shows):
 * per student, the database password each deployment shape gets when they deploy it in class.
 */
export interface SeededAnswers {
  classId: string;
  students: { key: string; name: string; id?: string; passwords: Record<DeploymentName, string> }[];
}

/** Markdown text on one line (a question's text may span several). */
function inline(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** A table cell: no line breaks, no unescaped pipes. */
function td(text: string): string {
  return inline(text).replace(/\|/g, '\\|');
}

type Quiz = Extract<LabCheck, { kind: 'quiz' }>;

/** The accepted answers of a step's question, or how a student's own answer is found. */
function key(step: LabStep, question: string): string {
  const quiz = step.checks.find((c): c is Quiz => c.kind === 'quiz' && c.question === question);
  const parts: string[] = [];
  if (quiz?.accept.length) parts.push(quiz.accept.map((a) => `\`${a}\``).join(' or '));
  if (quiz?.acceptFound)
    parts.push(
      `per student: the ${quiz.acceptFound.field} found where \`${quiz.acceptFound.workload}\` stands (each deployment has its own)`,
    );
  if (quiz?.acceptOutput)
    parts.push(
      `per student: what \`${quiz.acceptOutput.command.join(' ')}\` prints in \`${quiz.acceptOutput.workload}\` now`,
    );
  if (!parts.length) {
    // No check reads it: the answer "Show me" gives, when it is written in the file.
    for (const entry of step.solve) {
      const { kind, spec } = actionOf(entry);
      if (kind === 'answer' && spec.question === question && typeof spec.answer === 'string')
        parts.push(`\`${spec.answer}\` (what "Show me" answers)`);
    }
  }
  return parts.join('; ') || 'not checked (the student’s own words)';
}

/** The deployment shape a lab's step `index` (0-based) runs on: the setup's, or the last one an earlier step started. */
function deploymentAt(lab: Lab, index: number): DeploymentName {
  let shape: DeploymentName = lab.setup.deployment;
  for (const step of lab.steps.slice(0, index))
    for (const entry of [...step.actions, ...step.solve]) {
      const { kind, spec } = actionOf(entry as ActionEntry);
      if (kind === 'up' && (spec.deployment === 'monolith' || spec.deployment === 'microservices'))
        shape = spec.deployment;
    }
  return shape;
}

/** The per-student key: one row a student, one column a question whose answer is the seeded password. */
function seededKey(lab: Lab, seeded: SeededAnswers): string[] {
  const columns = lab.steps.flatMap((s, i) =>
    s.checks
      .filter((c): c is Quiz => c.kind === 'quiz' && c.acceptFound?.field === 'password')
      .map((c) => ({ i, question: c.question, shape: deploymentAt(lab, i) })),
  );
  if (!columns.length) return [];
  const lines = [
    `### Per-student answer key (class ${seeded.classId})`,
    '',
    'Each student’s password as their seed gives it, for a deployment created while they are in the class (one started before they joined keeps its own).',
    '',
    `| student | name | id | ${columns.map((c) => `step ${c.i + 1}: ${td(c.question)} (${c.shape})`).join(' | ')} |`,
    `| --- | --- | --- | ${columns.map(() => '---').join(' | ')} |`,
  ];
  for (const st of seeded.students)
    lines.push(
      `| ${st.key} | ${td(st.name)} | ${td(st.id ?? '')} | ${columns.map((c) => `\`${st.passwords[c.shape]}\``).join(' | ')} |`,
    );
  if (!seeded.students.length)
    lines.push('| (no student approved yet) | | | ' + columns.map(() => '').join(' | ') + ' |');
  lines.push('');
  return lines;
}

function labSection(lab: Lab, o: GuideOptions): string[] {
  const core = lab.coreMinutes ?? lab.minutes;
  const coreOnly = o.track?.steps === 'core';
  const fig = o.figures?.labs[lab.id];
  const lines = [
    `## ${lab.order}. ${lab.title}`,
    '',
    `\`${lab.id}\` · ${lab.quadrant.app} × ${lab.quadrant.network} · ${coreOnly ? `${core} minutes (core steps only${core < lab.minutes ? `; ${lab.minutes} with the optional ones` : ''})` : `${lab.minutes} minutes${core < lab.minutes ? ` (${core} for the core steps)` : ''}`}`,
    '',
    inline(lab.summary),
    '',
  ];
  if (lab.claims.length) {
    lines.push('### What it claims', '');
    lab.claims.forEach((c, i) => {
      lines.push(`${i + 1}. ${inline(c.text)}`);
      if (c.article) lines.push(`   - The article: “${inline(c.article)}”`);
      lines.push(`   - Supported when: ${c.holds.map((h) => `\`${h}\``).join(' and ')}`);
      if (c.prediction) {
        const step = lab.steps.find((s) => s.id === c.prediction!.step);
        const q = step?.predict.find((p) => p.id === c.prediction!.id);
        if (step && q) lines.push(`   - Predicted in step ${lab.steps.indexOf(step) + 1}: ${inline(q.text)}`);
      }
    });
    lines.push('');
  }
  const steps = lab.steps.map((s, i) => ({ s, i })).filter(({ s }) => !(coreOnly && s.optional));
  lines.push(
    '### Steps',
    '',
    `The lab's estimate: ${coreOnly ? core : lab.minutes} minutes for these steps. Machine time: "Show me" and Check per step as the labs benchmark measured it, the floor under a student's time (reading, predicting and typing come on top)${fig ? `; the lab's set-up took ${expected(fig.setupSeconds, 's')}` : ''}.`,
    '',
    '| # | step | core or optional | checks | hints | measures | machine time |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const { s, i } of steps) {
    const seconds = fig?.steps[s.id];
    lines.push(
      `| ${i + 1} | ${td(s.title)} | ${s.optional ? 'optional' : 'core'} | ${s.checks.length} | ${s.hints.length} | ${s.measure.map((m) => `${td(m.label)} (${m.unit})`).join('; ') || ''} | ${seconds ? expected(seconds, 's') : 'not measured yet'} |`,
    );
  }
  lines.push('');
  const measures = steps.flatMap(({ s, i }) => s.measure.map((m) => ({ m, i })));
  if (measures.length) {
    lines.push(
      '### Expected measurements',
      '',
      o.figures
        ? `Expected on ${machineName(o.figures.machine)} (recorded ${o.figures.date.slice(0, 10)}); a student's laptop differs, the relations of the claims should not.`
        : 'No figures recorded (labs/guides/figures.json; `npm run bench -- labs-record` writes it).',
      '',
      '| step | measure | id | expected |',
      '| --- | --- | --- | --- |',
    );
    for (const { m, i } of measures) {
      const values = fig?.measures[m.id];
      lines.push(
        `| ${i + 1} | ${td(m.label)} | \`${m.id}\` | ${values && o.figures ? `expected on ${o.figures.machine.cpus} × ${td(o.figures.machine.cpu)}: ${expected(values, m.unit)}` : 'not measured yet'} |`,
      );
    }
    lines.push('');
  }
  const predictions = steps.flatMap(({ s, i }) => s.predict.map((q) => ({ i, q })));
  if (predictions.length) {
    lines.push('### Predictions (asked before the measurement; final once recorded)', '');
    for (const { i, q } of predictions)
      lines.push(`- Step ${i + 1}: ${inline(q.text)}${q.choices ? ` (${q.choices.join(' / ')})` : ''}`);
    lines.push('');
  }
  const whys = steps.flatMap(({ s, i }) => s.explain.map((q) => ({ i, q })));
  if (whys.length) {
    lines.push('### Why questions (answered once the step passed)', '');
    for (const { i, q } of whys) lines.push(`- Step ${i + 1}: ${inline(q.text)}`);
    lines.push('');
  }
  const questions = steps.flatMap(({ s, i }) => s.questions.map((q) => ({ s, i, q })));
  if (questions.length) {
    lines.push('### Answer key', '', '| step | question | accepted |', '| --- | --- | --- |');
    for (const { s, i, q } of questions) lines.push(`| ${i + 1} | ${td(q.text)} | ${td(key(s, q.id))} |`);
    lines.push('');
  }
  if (o.seeded) lines.push(...seededKey(lab, o.seeded));
  if (lab.troubleshooting.length) {
    lines.push('### Known failure modes', '', '| symptom | cause | fix |', '| --- | --- | --- |');
    for (const t of lab.troubleshooting) lines.push(`| ${td(t.symptom)} | ${td(t.cause)} | ${td(t.fix)} |`);
    lines.push('');
  }
  return lines;
}

/**
 * The whole guide, labs in their order on the map: every lab (or the track's), each with its
 * claims, steps and their machine time, the expected range of each measure (from `figures`),
 * predictions, why questions, the answer key (per student with `seeded`) and known failure
 * modes. Markdown (GitHub's tables).
 */
export function instructorGuide(labs: Lab[], options: GuideOptions = {}): string {
  const { track } = options;
  const chosen = track ? labs.filter((l) => track.labs.includes(l.id)) : labs;
  const ordered = [...chosen].sort((a, b) => a.order - b.order);
  const minutes = ordered.reduce((sum, l) => sum + l.minutes, 0);
  const core = ordered.reduce((sum, l) => sum + (l.coreMinutes ?? l.minutes), 0);
  const time =
    track?.steps === 'core'
      ? `${core} minutes (core steps only)`
      : `${minutes} minutes in all (${core} for the core steps)`;
  const missing = options.figures ? ordered.filter((l) => !options.figures!.labs[l.id]).map((l) => l.id) : [];
  return (
    [
      '# MicroLab: the instructor’s guide',
      '',
      ...(track ? [`Track \`${track.name}\`: ${inline(track.title)}.`, ''] : []),
      `Written from the lab files by \`microlab class guide\`: ${ordered.length} labs, ${time}. A claim is supported for a student when every relation under it holds on that student's own numbers; \`microlab class report\` counts them for the class.`,
      '',
      options.figures
        ? `Figures measured by the labs benchmark on ${machineName(options.figures.machine)}, ${options.figures.date.slice(0, 10)}${missing.length ? `; not measured yet: ${missing.join(', ')}` : ''}.`
        : 'No measured figures (labs/guides/figures.json is absent): every expected value says "not measured yet".',
      '',
      ...ordered.flatMap((l) => labSection(l, options)),
    ]
      .join('\n')
      .trimEnd() + '\n'
  );
}
