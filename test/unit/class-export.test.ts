/**
 * The dashboard's per-student dots and its export (issue 17): each measure carries each
 * student's latest value (the dots of its strip plot), and the class report the host makes from
 * its ledger equals the one `microlab class report` makes from the same students' exported
 * files. The export's routes answer the instructor only: a student's token and a foreign
 * Origin are refused.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabProgress, Measurement, StepProgress } from '../../electron/api/contract';
import { ClassClient } from '../../electron/class/client';
import { classReportOf, dashboardOf, type RosterEntry } from '../../electron/class/dashboard';
import { ClassHost } from '../../electron/class/host';
import { decodeJoinCode, eventsFromProgress, Ledger, type JoinCode } from '../../electron/class/protocol';
import { ClassStore } from '../../electron/class/store';
import { ClassReportInput } from '../../electron/api/labs';
import { classHostDir, hostedClassExports } from '../../electron/services/class-seed';
import { readExports } from '../../electron/labs/class-files';
import { classReport } from '../../electron/labs/class-report';
import { parseLab } from '../../electron/labs/loader';
import { ProgressStore, type ProgressFile } from '../../electron/labs/progress';

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
  - id: after
    title: After
    text: Measure again.
    checks: [{ kind: deployment, deployment: monolith }]
    solve: [{ clear-policy: {} }]
    measure:
      - { id: blast-after, label: After, unit: workloads, from: { blast-radius: { attacker: jumpbox } } }
      - { id: errors, label: Errors, unit: requests, from: { load: { stat: errors } } }
claims:
  - text: Segmentation shrinks the jumpbox's reach
    measures: [blast-before]
    holds: ["blast-after < blast-before"]
  - text: Nothing breaks
    holds: ["errors == 0"]
`;
const lab = parseLab(LAB, 'demo/lab.yaml', path.join(os.tmpdir(), 'demo'));
const jumpbox = { attacker: 'jumpbox', app: 'monolith', network: 'segmented', metric: 'workloads' } as const;

function m(id: string, value: number, minute: number): Measurement {
  const at = `2026-12-07T10:${String(minute).padStart(2, '0')}:00.000Z`;
  return {
    id,
    label: id,
    unit: 'workloads',
    value,
    source: 'lab',
    at,
    ...(id.startsWith('blast') ? jumpbox : {}),
  };
}
function step(
  outcome: StepProgress['outcome'],
  seconds: number,
  hints: number,
  ms: Measurement[],
): StepProgress {
  return {
    outcome,
    attempts: outcome === 'pending' ? 2 : 1,
    hintsShown: hints,
    startedAt: '2026-12-07T10:00:00.000Z',
    ...(outcome !== 'pending' ? { seconds, doneAt: '2026-12-07T10:10:00.000Z' } : {}),
    measurements: ms,
    answers: {},
  };
}
function progress(steps: Record<string, StepProgress>): ProgressFile {
  const done = lab.steps.every((s) => (steps[s.id]?.outcome ?? 'pending') !== 'pending');
  const record: LabProgress = { lab: 'demo', state: done ? 'completed' : 'in-progress', steps };
  return { version: 1, labs: { demo: record } };
}

/** Four students: Ana measured blast-before twice (the later, 12, counts), Cy has no after. */
const CLASS: { name: string; id: string; p: ProgressFile }[] = [
  {
    name: 'Ana',
    id: 'a1',
    p: progress({
      before: step('passed', 60, 1, [m('blast-before', 9, 1), m('blast-before', 12, 3)]),
      after: step('passed', 100, 0, [m('blast-after', 2, 5), m('errors', 0, 6)]),
    }),
  },
  {
    name: 'Ben',
    id: 'b2',
    p: progress({
      before: step('solved', 80, 2, [m('blast-before', 12, 1)]),
      after: step('passed', 140, 0, [m('blast-after', 4, 5), m('errors', 3, 6)]),
    }),
  },
  {
    name: 'Cy',
    id: 'c3',
    p: progress({
      before: step('passed', 70, 0, [m('blast-before', 10, 1)]),
      after: step('pending', 0, 1, []),
    }),
  },
  {
    name: 'Ana',
    id: 'a4',
    p: progress({
      before: step('passed', 50, 0, [m('blast-before', 8, 1)]),
      after: step('passed', 90, 0, [m('blast-after', 11, 5), m('errors', 0, 6)]),
    }),
  },
];

function roster(): RosterEntry[] {
  return CLASS.map((s, i) => ({
    key: `s${i + 1}`,
    name: s.name,
    id: s.id,
    state: 'approved',
    address: '127.0.0.1',
    joinedAt: '2026-12-07T09:00:00.000Z',
  }));
}
function ledgerOf(): Ledger {
  const ledger = new Ledger();
  CLASS.forEach((s, i) => ledger.accept(`s${i + 1}`, eventsFromProgress(s.p)));
  return ledger;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mlc-export-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the dashboard's dots", () => {
  it("gives each measure one value per student who measured it, the student's latest", () => {
    const info = { name: 'c', address: '127.0.0.1', port: 1, started: '2026-12-07T09:00:00.000Z' };
    const board = dashboardOf(
      info as never,
      roster(),
      ledgerOf(),
      [lab],
      [],
      Date.parse('2026-12-07T11:00:00Z'),
    );
    const measures = Object.fromEntries(board.labs[0]!.measures.map((x) => [x.id, x]));
    expect(measures['blast-before']!.values).toEqual([
      { student: 'Ana', id: 'a1', value: 12 },
      { student: 'Ben', id: 'b2', value: 12 },
      { student: 'Cy', id: 'c3', value: 10 },
      { student: 'Ana', id: 'a4', value: 8 },
    ]);
    expect(measures['blast-after']!.values.map((v) => [v.id, v.value])).toEqual([
      ['a1', 2],
      ['b2', 4],
      ['a4', 11],
    ]);
    // The dots are the spread's numbers: as many, the same median and range.
    for (const x of Object.values(measures)) {
      const vs = x.values.map((v) => v.value);
      expect(x.spread.n).toBe(vs.length);
      expect([x.spread.min, x.spread.max]).toEqual([Math.min(...vs), Math.max(...vs)]);
    }
    expect(measures['blast-before']!.spread).toEqual({ n: 4, median: 11, min: 8, max: 12 });
    // Each claim names the measures it rests on: its own list and those its relations name.
    expect(
      board.labs[0]!.claims.map((c) => [c.measures, c.supported, c.notSupported, c.notMeasured]),
    ).toEqual([
      [['blast-before', 'blast-after'], 2, 1, 1],
      [['errors'], 2, 1, 1],
    ]);
  });
});

describe("the dashboard's export", () => {
  it('equals what `class report` makes from the same students’ exported files', async () => {
    const files: string[] = [];
    for (const [i, s] of CLASS.entries()) {
      const f = path.join(dir, `student-${i + 1}.json`);
      const data = {
        ...s.p,
        student: { name: s.name, id: s.id },
        account: 'student',
        exportedAt: '2026-12-07T11:00:00.000Z',
      };
      await writeFile(f, JSON.stringify(data));
      files.push(f);
    }
    const fromFiles = classReport([lab], await readExports(files));
    const fromHost = classReportOf(roster(), ledgerOf(), [lab]);
    expect(fromHost.labs).toEqual(fromFiles.labs);
    expect(fromHost.table).toEqual(fromFiles.table);
    expect(fromHost.students.map((s) => [s.name, s.id])).toEqual(
      fromFiles.students.map((s) => [s.name, s.id]),
    );
    // The CSV, but for its `file` column (the host has keys, not files).
    const noFile = (csv: string) =>
      csv
        .trimEnd()
        .split('\n')
        .map((line) => line.split(',').filter((_, i) => i !== 2));
    expect(noFile(fromHost.csv)).toEqual(noFile(fromFiles.csv));
    expect(fromHost.csv.split('\n')[0]).toBe(
      'student,student id,file,demo,demo.blast-before,demo.blast-after,demo.errors,demo claim 1,demo claim 2',
    );
    expect(fromHost.csv.split('\n')[1]).toBe('Ana,a1,s1,completed,12,2,0,supported,supported');
  });
});

function get(code: JoinCode, route: string, headers: Record<string, string>) {
  return new Promise<{ status: number; type: string; disposition: string; text: string }>(
    (resolve, reject) => {
      const req = request(
        { host: code.host, port: code.port, method: 'GET', path: route, headers, rejectUnauthorized: false },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              type: String(res.headers['content-type']),
              disposition: String(res.headers['content-disposition']),
              text,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
}

describe("the export's routes", () => {
  it('hands the instructor the CSV and the JSON report; refuses a student token and a foreign Origin', async () => {
    const store = new ClassStore(path.join(dir, 'host'));
    await store.create('lo', '127.0.0.1', 0, true);
    const host = new ClassHost({ store, labs: [lab] });
    await host.start();
    try {
      const code = decodeJoinCode(host.joinCode());
      const progressStore = new ProgressStore(path.join(dir, 'ana', 'progress.json'), 'student');
      await progressStore.update((p) => Object.assign(p, CLASS[0]!.p));
      const client = new ClassClient({
        dir: path.join(dir, 'ana', 'class'),
        progressFile: progressStore.file,
        student: { name: 'Ana', id: 'a1' },
        intervalMs: 50,
      });
      await client.load(code);
      await client.join();
      await client.sync();
      const studentToken = (
        JSON.parse(await readFile(path.join(dir, 'ana', 'class', 'join.json'), 'utf8')) as { token: string }
      ).token;

      const origin = `127.0.0.1:${code.port}`;
      const instructor = { authorization: `Bearer ${store.data.instructorToken}`, host: origin };
      const csv = await get(code, '/class/v1/report.csv', { ...instructor, origin: `https://${origin}` });
      expect(csv.status).toBe(200);
      expect(csv.type).toBe('text/csv; charset=utf-8');
      expect(csv.disposition).toBe('attachment; filename="class-report.csv"');
      expect(csv.text).toBe(host.report().csv);
      expect(csv.text.split('\n')[1]).toBe('Ana,a1,s1,completed,12,2,0,supported,supported');
      const json = await get(code, '/class/v1/report', instructor);
      expect(json.status).toBe(200);
      const report: Partial<ReturnType<ClassHost['report']>> = host.report();
      delete report.csv;
      expect(JSON.parse(json.text)).toEqual(report);

      for (const route of ['/class/v1/report', '/class/v1/report.csv']) {
        const asStudent = await get(code, route, { authorization: `Bearer ${studentToken}`, host: origin });
        expect(asStudent.status, route).toBe(401);
        expect(asStudent.text).not.toContain('Ana');
        const foreign = await get(code, route, { ...instructor, origin: 'https://evil.example' });
        expect(foreign.status, route).toBe(403);
      }
      const log = await readFile(path.join(dir, 'host', 'host.log'), 'utf8');
      expect(log).toMatch(/refused .* GET \/class\/v1\/report\.csv: 403 a foreign Origin/);
      expect(log).not.toContain(studentToken);
    } finally {
      await host.stop();
    }
  });
});

describe('class report --class: the hosted class from its record', () => {
  it("reads an ended class's students from the host's store, as the dashboard's export has them", async () => {
    const previous = process.env.MICROLAB_STATE_DIR;
    process.env.MICROLAB_STATE_DIR = await mkdtemp(path.join(os.tmpdir(), 'mlc-record-'));
    try {
      expect(await hostedClassExports('unit', [lab])).toBeUndefined();
      const store = new ClassStore(classHostDir('unit'));
      await store.create('lo', '127.0.0.1', 0, true);
      for (const r of roster()) store.data.students.push({ ...r, nonceHash: 'x' });
      for (const [i, s] of CLASS.entries()) await store.appendEvents(`s${i + 1}`, eventsFromProgress(s.p));
      store.data.class.ended = '2026-12-07T12:00:00.000Z';
      await store.save();

      const hosted = (await hostedClassExports('unit', [lab]))!;
      expect(hosted.map((h) => h.data.student)).toEqual(CLASS.map((s) => ({ name: s.name, id: s.id })));
      // The same report the dashboard's export makes from the live ledger.
      expect(classReport([lab], hosted)).toEqual(classReportOf(roster(), ledgerOf(), [lab]));
    } finally {
      await rm(process.env.MICROLAB_STATE_DIR, { recursive: true, force: true });
      if (previous === undefined) delete process.env.MICROLAB_STATE_DIR;
      else process.env.MICROLAB_STATE_DIR = previous;
    }
  });

  it('asks for files or the hosted class', () => {
    expect(ClassReportInput.safeParse({ files: [] }).success).toBe(false);
    expect(ClassReportInput.safeParse({ live: true }).success).toBe(true);
    expect(ClassReportInput.safeParse({ files: ['/a.json'] }).success).toBe(true);
  });
});
