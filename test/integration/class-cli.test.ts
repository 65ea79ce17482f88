/**
 * Students are people (issue 17), through the built CLI: two students on machines that log in
 * as the same OS account name themselves (`student set`, MICROLAB_STUDENT), export their
 * progress, and `class summary` / `class report` count two people. A file that is not an export
 * is refused naming it, and the report's folder is not written. Needs `npm run build`; no
 * Docker engine (nothing here touches one).
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ClassReport, ClassRow, StudentInfo } from '../../electron/api/contract';
import { cli } from './support';

const PROJECT = 'microlab-class-cli';
let root: string;

/** Progress as a student's MicroLab keeps it, from before names: its student is the OS user. */
function progress(jumpboxDomains: number, codeDomains: number) {
  const at = (minute: number) => `2026-12-07T10:${String(minute).padStart(2, '0')}:00.000Z`;
  const measure = (id: string, value: number, minute: number, attacker: string, metric = 'domains') => ({
    id,
    label: id,
    unit: metric,
    value,
    source: 'test',
    at: at(minute),
    attacker,
    metric,
    app: 'monolith',
  });
  const step = (seconds: number, measurements: unknown[]) => ({
    outcome: 'passed',
    attempts: 1,
    hintsShown: 0,
    seconds,
    measurements,
    answers: {},
  });
  return {
    version: 1,
    student: 'student',
    labs: {
      'monolith-flat': {
        lab: 'monolith-flat',
        state: 'completed',
        steps: {
          'blast-radius': step(60, [
            measure('jumpbox-workloads', 3, 1, 'jumpbox', 'workloads'),
            measure('jumpbox-domains', jumpboxDomains, 1, 'jumpbox'),
          ]),
          'compromised-code': step(90, [
            measure('code-workloads', 3, 2, 'catalog-code', 'workloads'),
            measure('code-domains', codeDomains, 2, 'catalog-code'),
          ]),
        },
      },
    },
  };
}

/** A laptop: its own state folder holding the student's progress. */
async function laptop(name: string, data: unknown): Promise<Record<string, string>> {
  const state = path.join(root, name);
  await mkdir(path.join(state, PROJECT, 'labs'), { recursive: true });
  await writeFile(path.join(state, PROJECT, 'labs', 'progress.json'), JSON.stringify(data));
  return { MICROLAB_STATE_DIR: state, MICROLAB_PROJECT: PROJECT, MICROLAB_STUDENT: '' };
}

let ana: Record<string, string>;
let bo: Record<string, string>;
let files: string[];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'microlab-class-cli-'));
  ana = await laptop('laptop-1', progress(5, 5));
  bo = await laptop('laptop-2', progress(5, 1));
});

describe('students are people', () => {
  it('a student names themselves once; MICROLAB_STUDENT overrides it', async () => {
    const none = await cli(['student', '--json'], ana);
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout)).toMatchObject({ source: 'none' });
    const set = await cli(['student', 'set', 'Ana', 'Lima', '--id', 's1'], ana);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('Ana Lima (id s1)');
    const shown = JSON.parse((await cli(['student', '--json'], ana)).stdout) as StudentInfo;
    expect(shown).toMatchObject({ student: { name: 'Ana Lima', id: 's1' }, source: 'stored' });
    const env = JSON.parse((await cli(['student', '--json'], { ...bo, MICROLAB_STUDENT: 'Bo Chen' })).stdout);
    expect(env).toMatchObject({ student: { name: 'Bo Chen' }, source: 'env' });
    const bad = await cli(['student', 'set', 'a\u0007b'], bo);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('control characters');
  });

  it('two exports of the same OS account are two rows of people in class summary and report', async () => {
    files = [path.join(root, 'export-1.json'), path.join(root, 'export-2.json')];
    expect((await cli(['lab', 'progress', 'export', files[0]!], ana)).code).toBe(0);
    const exported = await cli(['lab', 'progress', 'export', files[1]!], {
      ...bo,
      MICROLAB_STUDENT: 'Bo Chen',
    });
    expect(exported.code, exported.stderr).toBe(0);
    const [one, two] = await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8'))));
    expect(one.account).toBe(two.account);
    expect([one.student, two.student]).toEqual([{ name: 'Ana Lima', id: 's1' }, { name: 'Bo Chen' }]);

    const summary = await cli(['class', 'summary', '--json', ...files]);
    expect(summary.code, summary.stderr).toBe(0);
    const rows = JSON.parse(summary.stdout) as ClassRow[];
    expect([...new Set(rows.map((r) => `${r.student}/${r.studentId ?? ''}`))]).toEqual([
      'Ana Lima/s1',
      'Bo Chen/',
    ]);

    const out = path.join(root, 'report');
    const result = await cli(['class', 'report', '--json', '--out', out, ...files]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as ClassReport;
    expect(report.students.map((s) => s.name)).toEqual(['Ana Lima', 'Bo Chen']);
    const lab = report.labs.find((l) => l.lab === 'monolith-flat')!;
    expect(lab).toMatchObject({ started: 2, completed: 2 });
    // Bo's code-domains (1) contradicts "jumpbox-domains == code-domains": not supported.
    expect(lab.claims[0]).toMatchObject({ supported: 1, notSupported: 1, notMeasured: 0 });
    expect(lab.measures.find((m) => m.id === 'code-domains')!.spread).toEqual({
      n: 2,
      median: 3,
      min: 1,
      max: 5,
    });
    expect(lab.steps.find((s) => s.id === 'compromised-code')).toMatchObject({ done: 2, medianSeconds: 90 });
    const csv = await readFile(path.join(out, 'class-report.csv'), 'utf8');
    const header = csv.split('\n')[0]!.split(',');
    const row = csv.split('\n')[2]!.split(',');
    expect(row[0]).toBe('Bo Chen');
    expect(row[header.indexOf('monolith-flat.code-domains')]).toBe('1');
    expect(JSON.parse(await readFile(path.join(out, 'class-report.json'), 'utf8')).students).toHaveLength(2);

    const text = await cli(['class', 'report', ...files]);
    expect(text.stdout).toContain('Class report: 2 students: Ana Lima (s1), Bo Chen');
  });

  it('refuses a file that is not an export, naming it, and writes nothing', async () => {
    const bad = path.join(root, 'notes.json');
    await writeFile(
      bad,
      JSON.stringify({
        version: 1,
        labs: { 'monolith-flat': { lab: 'monolith-flat', state: 'done', steps: {} } },
      }),
    );
    const out = path.join(root, 'not-written');
    const result = await cli(['class', 'report', '--out', out, files[0]!, bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${bad}: not a progress export: labs.monolith-flat.state`);
    expect(existsSync(out)).toBe(false);
  });
});
