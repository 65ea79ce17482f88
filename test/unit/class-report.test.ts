/**
 * The class report (issue 17): a class's numbers from students' exported progress. Forced
 * numbers in, exact figures out: completion, median time, hints and solves per step; median and
 * range per measure; per claim how many students' own numbers support or contradict it (a
 * contradicting number counts as not supported); the 2×2 as medians; a CSV column per measure.
 * Students are told apart by the name they set, never by the OS account; a file that is not an
 * export is refused, naming the file and what is wrong.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabProgress, Measurement, StepProgress } from '../../electron/api/contract';
import { readExports } from '../../electron/labs/class-files';
import { classLabReports, classReport, median, spreadOf } from '../../electron/labs/class-report';
import { parseLab } from '../../electron/labs/loader';
import { ProgressStore } from '../../electron/labs/progress';
import { studentFromEnv } from '../../electron/labs/student';
import { classRows, csvOf } from '../../electron/labs/summary';
import { ApiError } from '../../electron/errors';

const LAB = `id: demo
title: Demo
summary: A demo lab.
minutes: 5
order: 9
quadrant: { app: monolith, network: segmented }
setup: { deployment: monolith }
steps:
  - id: before
    title: Before
    text: Measure.
    checks: [{ kind: deployment, deployment: monolith }]
    solve: [{ clear-policy: {} }]
    measure:
      - { id: blast-before, label: Before, unit: workloads, from: { blast-radius: { attacker: jumpbox } } }
      - { id: domains-before, label: Domains before, unit: domains, from: { data-domains: { attacker: jumpbox } } }
  - id: after
    title: After
    text: Measure again.
    optional: true
    checks: [{ kind: deployment, deployment: monolith }]
    solve: [{ clear-policy: {} }]
    measure:
      - { id: blast-after, label: After, unit: workloads, from: { blast-radius: { attacker: jumpbox } } }
      - { id: errors, label: Errors, unit: requests, from: { load: { stat: errors } } }
claims:
  - text: Segmentation shrinks the jumpbox's reach without breaking the shop
    article: can be used to logically isolate monolithic applications
    measures: [blast-before, blast-after, errors]
    holds: ["blast-after < blast-before", "errors == 0"]
`;
const lab = parseLab(LAB, 'demo/lab.yaml', path.join(os.tmpdir(), 'demo'));

const jumpbox = { attacker: 'jumpbox', app: 'monolith' } as const;
function m(id: string, value: number, minute: number, extra: Partial<Measurement> = {}): Measurement {
  const at = `2026-12-07T10:${String(minute).padStart(2, '0')}:00.000Z`;
  return { id, label: id, unit: 'x', value, source: 'test', at, ...extra };
}
function step(
  outcome: StepProgress['outcome'],
  seconds: number,
  hints: number,
  ms: Measurement[],
): StepProgress {
  return { outcome, attempts: 1, hintsShown: hints, seconds, measurements: ms, answers: {} };
}
function demo(steps: Record<string, StepProgress>, state: LabProgress['state'] = 'completed'): LabProgress {
  return { lab: 'demo', state, steps };
}

let dir: string;
/** Writes an export as `lab progress export` does; returns its path. */
async function file(name: string, content: unknown): Promise<string> {
  const full = path.join(dir, name);
  await writeFile(full, typeof content === 'string' ? content : JSON.stringify(content));
  return full;
}
function exported(
  student: unknown,
  labs: Record<string, LabProgress>,
  exportedAt = '2026-12-07T11:00:00.000Z',
) {
  return { version: 1, ...(student !== undefined ? { student } : {}), account: 'student', labs, exportedAt };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-class-'));
});

describe('figures', () => {
  it('median of odd and even counts, and the spread', () => {
    expect(median([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(spreadOf([5, 9, 7])).toEqual({ n: 3, median: 7, min: 5, max: 9 });
    expect(spreadOf([])).toEqual({ n: 0, median: null, min: null, max: null });
  });
});

describe('class report', () => {
  async function classOfFour() {
    const files = [
      await file(
        'ana.json',
        exported(
          { name: 'Ana' },
          {
            demo: demo({
              before: step('passed', 60, 1, [
                m('blast-before', 10, 0, { ...jumpbox, metric: 'workloads' }),
                m('domains-before', 5, 1, { ...jumpbox, metric: 'domains' }),
              ]),
              after: step('passed', 120, 0, [
                m('blast-after', 2, 5, { ...jumpbox, metric: 'workloads' }),
                m('errors', 0, 6),
              ]),
            }),
          },
        ),
      ),
      await file(
        'ben.json',
        exported(
          { name: 'Ben', id: 's2' },
          {
            demo: demo({
              before: step('solved', 100, 2, [
                m('blast-before', 12, 0, { ...jumpbox, metric: 'workloads' }),
                m('domains-before', 3, 1, { ...jumpbox, metric: 'domains' }),
              ]),
              after: step('passed', 200, 0, [
                m('blast-after', 4, 5, { ...jumpbox, metric: 'workloads' }),
                m('errors', 0, 6),
              ]),
            }),
          },
        ),
      ),
      // Cy's numbers contradict the claim: the reach did not shrink.
      await file(
        'cy.json',
        exported(
          { name: 'Cy' },
          {
            demo: demo({
              before: step('passed', 80, 0, [m('blast-before', 11, 0, { ...jumpbox, metric: 'workloads' })]),
              after: step('passed', 100, 0, [
                m('blast-after', 11, 5, { ...jumpbox, metric: 'workloads' }),
                m('errors', 0, 6),
              ]),
            }),
          },
        ),
      ),
      // An export from before students named themselves: its student is the OS user.
      await file('dee.json', {
        version: 1,
        student: 'student',
        labs: {
          demo: demo(
            { before: step('passed', 50, 0, [m('blast-before', 9, 0, { ...jumpbox, metric: 'workloads' })]) },
            'in-progress',
          ),
        },
      }),
    ];
    return classReport([lab], await readExports(files));
  }

  it('counts completion, median time, hints and solves per step', async () => {
    const report = await classOfFour();
    expect(report.students.map((s) => [s.name, s.id, s.named])).toEqual([
      ['Ana', undefined, true],
      ['Ben', 's2', true],
      ['Cy', undefined, true],
      ['dee', undefined, false],
    ]);
    const [only] = report.labs;
    expect(only).toMatchObject({ lab: 'demo', started: 4, completed: 3 });
    expect(only!.steps).toEqual([
      {
        id: 'before',
        title: 'Before',
        optional: false,
        passed: 3,
        solved: 1,
        done: 4,
        medianSeconds: 70,
        hints: 3,
        studentsWithHints: 2,
      },
      {
        id: 'after',
        title: 'After',
        optional: true,
        passed: 3,
        solved: 0,
        done: 3,
        medianSeconds: 120,
        hints: 0,
        studentsWithHints: 0,
      },
    ]);
  });

  it('gives each measure its median and range, and counts a contradicting number as not supported', async () => {
    const report = await classOfFour();
    const measures = Object.fromEntries(report.labs[0]!.measures.map((x) => [x.id, x.spread]));
    expect(measures).toEqual({
      'blast-before': { n: 4, median: 10.5, min: 9, max: 12 },
      'domains-before': { n: 2, median: 4, min: 3, max: 5 },
      'blast-after': { n: 3, median: 4, min: 2, max: 11 },
      errors: { n: 3, median: 0, min: 0, max: 0 },
    });
    expect(report.labs[0]!.claims).toEqual([
      {
        text: "Segmentation shrinks the jumpbox's reach without breaking the shop",
        article: 'can be used to logically isolate monolithic applications',
        holds: ['blast-after < blast-before', 'errors == 0'],
        measures: ['blast-before', 'blast-after', 'errors'],
        supported: 2,
        notSupported: 1,
        notMeasured: 1,
      },
    ]);
  });

  it("fills the class's 2×2 with the medians of each student's latest figures", async () => {
    const report = await classOfFour();
    const cell = report.table.find((c) => c.app === 'monolith' && c.network === 'segmented')!;
    expect(cell.labs).toEqual(['demo']);
    // Latest workloads per student: Ana 2, Ben 4, Cy 11, Dee 9 (only before).
    expect(cell.attackers.jumpbox).toEqual({
      workloads: { n: 4, median: 6.5, min: 2, max: 11 },
      databases: { n: 0, median: null, min: null, max: null },
      domains: { n: 2, median: 4, min: 3, max: 5 },
    });
    expect(cell.attackers['catalog-code']).toBeNull();
    expect(
      report.table.find((c) => c.app === 'monolith' && c.network === 'flat')!.attackers.jumpbox,
    ).toBeNull();
  });

  it('writes a CSV with one column per measure and per claim, one row per student', async () => {
    const report = await classOfFour();
    const [header, ...rows] = report.csv
      .trimEnd()
      .split('\n')
      .map((l) => l.split(','));
    expect(header).toEqual([
      'student',
      'student id',
      'file',
      'demo',
      'demo.blast-before',
      'demo.domains-before',
      'demo.blast-after',
      'demo.errors',
      'demo claim 1',
    ]);
    const ben = rows.find((r) => r[0] === 'Ben')!;
    expect(ben.slice(1, 2).concat(ben.slice(3))).toEqual([
      's2',
      'completed',
      '12',
      '3',
      '4',
      '0',
      'supported',
    ]);
    const cy = rows.find((r) => r[0] === 'Cy')!;
    expect(cy.slice(3)).toEqual(['completed', '11', '', '11', '0', 'not supported']);
    const dee = rows.find((r) => r[0] === 'dee')!;
    expect(dee.slice(3)).toEqual(['in-progress', '9', '', '', '', '']);
  });

  it("gives the live dashboard the report's per-lab figures alone, the same ones, a later export counting", async () => {
    const early = { before: step('passed', 50, 2, [m('blast-before', 9, 0)]) };
    const a = await file('l1.json', exported({ name: 'Ana' }, { demo: demo(early, 'in-progress') }));
    const later = { ...early, after: step('solved', 90, 0, [m('blast-after', 3, 2)]) };
    const again = await file(
      'l2.json',
      exported({ name: 'Ana' }, { demo: demo(later) }, '2026-12-07T12:00:00.000Z'),
    );
    const b = await file('l3.json', exported({ name: 'Bo' }, { demo: demo(early, 'in-progress') }));
    const exports = await readExports([a, again, b]);
    const live = classLabReports([lab], exports);
    expect(live).toEqual(classReport([lab], exports).labs);
    expect(live[0]).toMatchObject({ lab: 'demo', started: 2, completed: 1 });
    expect(live[0]!.steps.map((x) => [x.id, x.passed, x.solved, x.hints])).toEqual([
      ['before', 2, 0, 4],
      ['after', 0, 1, 0],
    ]);
  });

  it('tells apart two students of the same OS account by their names; counts one student once', async () => {
    const a = await file('one.json', exported({ name: 'Ana' }, {}, '2026-12-07T11:00:00.000Z'));
    const b = await file('two.json', exported({ name: 'Bea' }, {}, '2026-12-07T11:00:00.000Z'));
    const again = await file('three.json', exported({ name: 'Ana' }, {}, '2026-12-07T12:00:00.000Z'));
    const report = classReport([lab], await readExports([a, b, again]));
    expect(report.students.map((s) => [s.name, s.file])).toEqual([
      ['Ana', again],
      ['Bea', b],
    ]);
    expect(report.notes).toEqual([`${a} and ${again} are both Ana: the later export (${again}) counts`]);
    // The same name with another id is another student.
    const other = await file('four.json', exported({ name: 'Ana', id: 's9' }, {}));
    expect(classReport([lab], await readExports([a, other])).students).toHaveLength(2);
  });

  it('says which lab of an export it does not know, and leaves it out', async () => {
    const f = await file(
      'x.json',
      exported({ name: 'Xu' }, { gone: { lab: 'gone', state: 'completed', steps: {} } }),
    );
    const report = classReport([lab], await readExports([f]));
    expect(report.notes).toEqual([`${f}: lab "gone" is not one of these labs: left out`]);
    expect(report.labs.map((l) => l.lab)).toEqual(['demo']);
  });
});

describe('exported files', () => {
  async function refusal(files: string[]): Promise<ApiError> {
    const error = await readExports(files).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('bad-progress-file');
    return error as ApiError;
  }

  it('refuses a file that is not JSON, or not an export, naming the file and the field', async () => {
    const good = await file('good.json', exported({ name: 'Ana' }, {}));
    const notJson = await file('notes.txt', 'these are my notes');
    expect((await refusal([good, notJson])).message).toMatch(new RegExp(`^${notJson}: not JSON`));
    const badState = await file(
      'bad.json',
      exported(
        { name: 'Bo' },
        { demo: { lab: 'demo', state: 'finished', steps: {} } as unknown as LabProgress },
      ),
    );
    const message = (await refusal([good, badState])).message;
    expect(message).toContain(`${badState}: not a progress export: labs.demo.state:`);
    const badNumber = await file(
      'seconds.json',
      exported(
        { name: 'Bo' },
        { demo: demo({ before: { ...step('passed', 1, 0, []), seconds: 'ten' as unknown as number } }) },
      ),
    );
    expect((await refusal([badNumber])).message).toContain('labs.demo.steps.before.seconds');
    const other = await file('other.json', { version: 2, labs: {} });
    expect((await refusal([other])).message).toContain('version');
    expect((await refusal([path.join(dir, 'missing.json')])).message).toMatch(/missing\.json: no such file$/);
  });

  it('class summary rows are named by the student, else by the file, never by the account', async () => {
    const a = await file(
      'pc1.json',
      exported(
        { name: 'Ana', id: '7' },
        { demo: demo({ before: step('passed', 5, 0, [m('blast-before', 3, 0)]) }) },
      ),
    );
    const b = await file('pc2.json', {
      version: 1,
      student: 'student',
      labs: { demo: demo({ before: step('passed', 6, 0, []) }) },
    });
    const rows = await classRows([a, b]);
    expect(rows.map((r) => [r.student, r.studentId])).toEqual([
      ['Ana', '7'],
      ['pc2', undefined],
    ]);
    expect(csvOf(rows).split('\n')[1]).toBe('Ana,7,demo,before,passed,1,0,5,blast-before=3');
  });

  it('keeps a name a spreadsheet would run as a formula as text', async () => {
    const f = await file('eve.json', exported({ name: '=HYPERLINK("x")' }, {}));
    const report = classReport([lab], await readExports([f]));
    expect(report.csv.split('\n')[1]!.startsWith(`"'=HYPERLINK(""x"")"`)).toBe(true);
  });
});

describe('the student', () => {
  it('is read from MICROLAB_STUDENT (and its id), and a bad one is refused naming the variable', () => {
    expect(studentFromEnv({})).toBeUndefined();
    expect(studentFromEnv({ MICROLAB_STUDENT: ' Ana Lima ' })).toEqual({ name: 'Ana Lima' });
    expect(studentFromEnv({ MICROLAB_STUDENT: 'Ana', MICROLAB_STUDENT_ID: 's1' })).toEqual({
      name: 'Ana',
      id: 's1',
    });
    expect(() => studentFromEnv({ MICROLAB_STUDENT: 'a\u0007b' })).toThrow(/MICROLAB_STUDENT: .*control/);
    expect(() => studentFromEnv({ MICROLAB_STUDENT: 'x'.repeat(101) })).toThrow(/at most 100/);
  });

  it('a progress file from before names keeps its OS user as the account, not as the student', async () => {
    const f = await file('progress.json', { version: 1, student: 'student', labs: {} });
    const data = await new ProgressStore(f, 'someone').read();
    expect(data.student).toBeUndefined();
    expect(data.account).toBe('student');
  });
});
