/**
 * The live class's dashboard in Chromium (issue 17): `ClassHost` serves the built app on
 * 127.0.0.1 over TLS with the class's own certificate; students' MicroLabs (ClassClient, over
 * pinned TLS) ask to join; the instructor approves one on the page, the others join by
 * approval from the host; a student stuck failing one check the same way is highlighted with
 * that check and the room's line for the step, a measurement's distribution (a dot per student
 * who measured it) and the claim it backs show, the class report's CSV downloads, a message goes to the room and reaches a student. A screenshot is kept in
 * test-results/e2e/. Needs `npm run build`; no Docker engine.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassClient } from '../../electron/class/client';
import { ClassHost } from '../../electron/class/host';
import { decodeJoinCode } from '../../electron/class/protocol';
import { ClassStore } from '../../electron/class/store';
import { loadLabs } from '../../electron/labs/loader';
import { ProgressStore, recordFailure, stepProgress } from '../../electron/labs/progress';

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
const SCREENSHOTS = path.join(REPO_ROOT, 'test-results', 'e2e');
const UI = path.join(REPO_ROOT, 'dist', 'renderer');

let dir: string;
let host: ClassHost;
let browser: Browser;
const stop = new AbortController();
const notices: string[] = [];

async function student(i: number, name: string) {
  const root = path.join(dir, `s${i}`);
  const progress = new ProgressStore(path.join(root, 'progress.json'), 'student');
  const client = new ClassClient({
    dir: path.join(root, 'class'),
    progressFile: progress.file,
    student: { name, id: `id${i}` },
    intervalMs: 200,
    doctor: () =>
      Promise.resolve(i === 2 ? { ready: false, failing: ['images'] } : { ready: true, failing: [] }),
    onNotice: (line) => notices.push(`${name}: ${line}`),
  });
  await client.load(decodeJoinCode(host.joinCode()));
  return { progress, client };
}

/** A student on lab 1's blast-radius step: `fails` failed checks, and, if passed, the measure. */
async function work(progress: ProgressStore, fails: number, jumpboxWorkloads?: number): Promise<void> {
  await progress.update((p) => {
    const s = stepProgress(p, 'monolith-flat', 'blast-radius');
    s.startedAt = new Date().toISOString();
    s.attempts = fails + (jumpboxWorkloads === undefined ? 0 : 1);
    for (let n = 1; n <= fails; n++)
      recordFailure(s, n, [
        { id: 'blast-1', description: 'the jumpbox was probed', passed: false, message: 'no probe yet' },
      ]);
    if (jumpboxWorkloads !== undefined) {
      s.outcome = 'passed';
      s.doneAt = new Date().toISOString();
      s.seconds = 120;
      s.measurements.push({
        id: 'jumpbox-workloads',
        label: 'Workloads the stolen jumpbox reaches',
        unit: 'workloads',
        value: jumpboxWorkloads,
        source: 'e2e',
        at: new Date().toISOString(),
      });
    }
  });
}

beforeAll(async () => {
  if (!existsSync(path.join(UI, 'index.html')))
    throw new Error('dist/renderer/index.html is missing: run `npm run build`');
  await mkdir(SCREENSHOTS, { recursive: true });
  dir = await mkdtemp(path.join(os.tmpdir(), 'mlc-e2e-'));
  const store = new ClassStore(path.join(dir, 'host'));
  await store.create('lo', '127.0.0.1', 0, false);
  const { labs } = await loadLabs(path.join(REPO_ROOT, 'labs', 'guides'));
  host = new ClassHost({ store, labs: labs.map((l) => l.lab), uiDir: UI });
  await host.start();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
    ],
  });
});

afterAll(async () => {
  stop.abort();
  await browser?.close();
  await host?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the class dashboard', () => {
  it('shows students joining, a stuck one, a distribution and a claim, and sends a message to the room', async () => {
    // The instructor's browser accepts the class's self-signed certificate (the instructor's own).
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(host.dashboardUrl());
    await expect.poll(() => page.getByText('0 students in the class').count()).toBe(1);

    const ana = await student(1, 'Ana Lima');
    const bo = await student(2, 'Bo Chen');
    const cy = await student(3, 'Cy Diaz');
    const joins = [ana, bo, cy].map((s) => s.client.join(stop.signal));
    const row = (name: string) => page.locator('tr', { hasText: name });
    await expect.poll(() => row('Ana Lima').getByRole('button', { name: 'Approve' }).count()).toBe(1);
    await row('Ana Lima').getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => host.store.data.students.filter((s) => s.state === 'approved').length).toBe(1);
    await expect.poll(() => host.store.data.students.length).toBe(3);
    await host.approve('s2');
    await host.approve('s3');
    await Promise.all(joins);

    await work(ana.progress, 0, 3);
    await work(bo.progress, 4);
    await work(cy.progress, 1, 5);
    for (const s of [ana, bo, cy]) void s.client.run(stop.signal).catch(() => undefined);

    await expect.poll(() => page.getByText('3 students in the class').count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => row('Bo Chen').getAttribute('class')).toBe('class-stuck');
    expect(await row('Ana Lima').getAttribute('class')).toBeNull();
    // Stuck the same way: the check, how, and how many runs in a row; the room's line for the step.
    await expect
      .poll(() => row('Bo Chen').locator('.class-failing').textContent())
      .toBe('the jumpbox was probed: no probe yet (4 runs in a row)');
    await expect
      .poll(() => page.locator('[data-step="monolith-flat/blast-radius"]').textContent())
      .toBe('monolith-flat/blast-radius: check blast-1 (the jumpbox was probed) fails for 1 student');
    await expect.poll(() => row('Bo Chen').getByText('not ready: images').count()).toBe(1);
    const measure = page.locator('[data-measure="jumpbox-workloads"]');
    await expect.poll(() => measure.textContent()).toContain('median 4 (range 3–5, 2 students)');
    // Each student who measured it is a dot, named (its text alternative) with the value and unit.
    const dots = measure.locator('circle.class-strip-dot');
    await expect.poll(() => dots.count()).toBe(2);
    // (in the order the students joined, which the three joins racing leave open)
    expect((await dots.evaluateAll((cs) => cs.map((c) => c.getAttribute('aria-label')))).sort()).toEqual([
      'Ana Lima (id1): 3 workloads',
      'Cy Diaz (id3): 5 workloads',
    ]);
    expect(await measure.locator('circle.class-strip-dot title').allTextContents()).toEqual(
      await dots.evaluateAll((cs) => cs.map((c) => c.getAttribute('aria-label'))),
    );
    expect(await measure.locator('.class-strip-median').count()).toBe(1);
    // The claim this measure backs, and how many students' numbers support it (none complete yet).
    expect(await measure.locator('[data-claim]').count()).toBe(1);
    expect(await measure.locator('[data-claim]').textContent()).toMatch(
      /^“On a flat network, a stolen operator laptop .*”: not measured by any student yet$/,
    );

    // The export: the class report's CSV, one column per measure, a row per student.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('class-report.csv');
    const csv = await readFile(await download.path(), 'utf8');
    const [header, ...rows] = csv.trimEnd().split('\n');
    expect(header!.split(',').slice(0, 5)).toEqual([
      'student',
      'student id',
      'file',
      'monolith-flat',
      'monolith-flat.jumpbox-workloads',
    ]);
    expect(rows.map((r) => r.split(',').slice(0, 2).concat(r.split(',').slice(4, 5))).sort()).toEqual([
      ['Ana Lima', 'id1', '3'],
      ['Bo Chen', 'id2', ''],
      ['Cy Diaz', 'id3', '5'],
    ]);
    expect(csv).toBe(host.report().csv);
    expect(await page.getByText('Readiness (doctor): 2 ready, 1 not ready, 0 unknown').count()).toBe(1);

    await page.getByLabel('Message to the room').fill('Break until 11:00');
    await page.getByRole('button', { name: 'Send to the room' }).click();
    await expect
      .poll(() => notices.some((n) => n === 'Cy Diaz: message from the instructor: Break until 11:00'))
      .toBe(true);

    await page.screenshot({ path: path.join(SCREENSHOTS, 'class-dashboard.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });
});
