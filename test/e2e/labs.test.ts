/**
 * The guided labs end to end, in Chromium against the real services and engine: the Labs
 * view (the map, a broken lab file shown as an error card while the others open), a student
 * walking one whole lab (open, start, act, check, hint, Show me, next, summary) with a
 * screenshot per step, progress surviving a reload of the UI, and the 2×2 page filled from it.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabInfo } from '../../electron/api/contract';
import type { Harness, LabSession } from './harness';
import { openLab, REPO_ROOT, SCREENSHOTS } from './harness';

const WAIT = { timeout: 60_000, interval: 250 };
/** Show me may run a deployment change and a load. */
const TASK = { timeout: 240_000 };

/** A lab file with an unknown check kind at a known place (line 12). */
const BROKEN = `id: broken
title: A broken lab
summary: Its step checks something that does not exist.
minutes: 5
order: 99
quadrant: { app: monolith, network: flat }
setup: { deployment: monolith, layout: flat }
steps:
  - id: only
    title: Nothing to do
    text: Nothing.
    checks:
      - kind: telepathy
`;

describe('the guided labs in the UI', () => {
  let lab: LabSession;
  let harness: Harness;
  let page: Page;
  let errors: string[];
  let labsDir: string;
  let walked: LabInfo;
  const before = process.env.MICROLAB_LABS_DIR;

  beforeAll(async () => {
    // A copy of labs/ with one broken lab file added: the app is pointed at it. (Inside the
    // repository, so the shop's sources still find their packages when the images are checked.)
    await mkdir(path.join(REPO_ROOT, 'test-results'), { recursive: true });
    labsDir = path.join(await mkdtemp(path.join(REPO_ROOT, 'test-results', 'labs-copy-')), 'labs');
    await cp(path.join(REPO_ROOT, 'labs'), labsDir, { recursive: true });
    await mkdir(path.join(labsDir, 'guides', 'broken'), { recursive: true });
    await writeFile(path.join(labsDir, 'guides', 'broken', 'lab.yaml'), BROKEN);
    process.env.MICROLAB_LABS_DIR = labsDir;
    lab = await openLab();
    ({ harness, page, errors } = lab);
  }, 300_000);

  afterAll(async () => {
    await lab?.close();
    if (before === undefined) delete process.env.MICROLAB_LABS_DIR;
    else process.env.MICROLAB_LABS_DIR = before;
    await rm(path.dirname(labsDir), { recursive: true, force: true });
  });

  const shot = (name: string) =>
    page.screenshot({ path: path.join(SCREENSHOTS, `labs-${name}.png`), fullPage: true });

  it('shows the labs as a map, and a broken lab file as an error card while the others open', async () => {
    // The first screen's way in, once it has looked at the machine.
    const next = page.getByRole('region', { name: 'Next', exact: true });
    await expect.poll(() => next.innerText(), WAIT).toContain('This machine is ready');
    await next.getByRole('button', { name: 'Open the labs' }).click();
    expect(await page.getByRole('tab', { name: 'Labs' }).getAttribute('aria-selected')).toBe('true');

    const list = await harness.call('labs:list', {});
    expect(list.labs.length).toBeGreaterThan(0);
    expect(list.errors.map((e) => e.id)).toEqual(['broken']);
    const map = page.getByRole('table', { name: 'Labs by architecture' });
    await map.waitFor({ timeout: 30_000 });
    for (const info of list.labs) {
      const card = page.getByRole('article', { name: info.title, exact: true });
      expect(await card.innerText()).toContain(
        `~${info.coreMinutes < info.minutes ? `${info.coreMinutes}–` : ''}${info.minutes} min`,
      );
      expect(await card.innerText()).toContain(`${info.steps} steps, not started`);
    }
    // A lab of the 2×2 sits in its row and column.
    const first = list.labs.find((l) => l.quadrant.network !== 'perimeter')!;
    const row = map
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: new RegExp(first.quadrant.app, 'i') }) });
    expect(await row.innerText()).toContain(first.title);

    // The broken file: its problem at file:line:column, as the loader reports it.
    const broken = page.getByRole('alert', { name: 'Lab broken does not load' });
    const issue = list.errors[0]!.issues[0]!;
    expect(await broken.innerText()).toContain(
      `${issue.file}:${issue.line}:${issue.column}: ${issue.message}`,
    );
    expect(issue.line).toBeGreaterThan(1);
    await shot('map');

    // The others still open: lab 1, the one walked below.
    walked = list.labs.find((l) => l.id === 'monolith-flat')!;
    await page
      .getByRole('article', { name: walked.title, exact: true })
      .getByRole('button', { name: /^Open/ })
      .click();
    await page.getByRole('heading', { name: walked.title, level: 2 }).waitFor({ timeout: 30_000 });
    expect(errors).toEqual([]);
  });

  it('walks one whole lab: start, act, check, hint, Show me, next, summary', async () => {
    const detail = await harness.call('labs:get', { lab: walked.id });
    await page.getByRole('button', { name: 'Start the lab' }).click();
    for (const step of detail.steps) {
      const guide = page.getByRole('region', { name: `Step ${step.index}: ${step.title}` });
      await guide.waitFor({ timeout: TASK.timeout });
      // The live views the step asks for are beside the guide.
      if (step.views.includes('matrix'))
        await page.getByRole('region', { name: 'Reachability matrix', exact: true }).waitFor();
      if (step.views.includes('flows'))
        await page.getByRole('region', { name: 'Flow log', exact: true }).waitFor();

      const check = async () => {
        await guide.getByRole('button', { name: 'Check' }).click();
        const report = guide.getByRole('status', { name: 'Check' });
        await report.waitFor({ timeout: 60_000 });
        return report;
      };
      if (step.index === 1) {
        // Honest checks: nothing done yet, the step does not pass, and each failure says why.
        const report = await check();
        expect(await report.innerText()).toMatch(/\d+ of \d+ checks fail/);
        const failed = report.locator('li[data-passed="false"]');
        expect(await failed.count()).toBeGreaterThan(0);
        expect((await failed.first().innerText()).length).toBeGreaterThan(20);
        // Act: the step's first action that runs in the services (a terminal one says where to type).
        const action = step.actions[0];
        if (action) {
          await guide
            .getByRole('group', { name: 'Actions' })
            .getByRole('button', { name: action.label })
            .click();
          if (action.action.kind === 'terminal') {
            const terminal = page.getByRole('region', { name: 'Terminal', exact: true });
            expect(await terminal.innerText()).toContain(`microlab shell ${action.action.workload}`);
            // The shell opened in the terminal panel; it is put away so it covers no button.
            await page.getByRole('button', { name: 'Hide terminals' }).click();
          } else {
            await guide
              .getByRole('status')
              .filter({ hasText: /: (done|failed)/ })
              .waitFor({ timeout: TASK.timeout });
          }
        }
      }
      for (const q of step.predict) {
        // Predict first: chosen, recorded once, then shown as the student's prediction.
        const asked = guide.locator(`[data-prediction="${q.id}"]`);
        const answer = q.choices?.[0] ?? 'a guess';
        if (q.choices) await asked.getByRole('radio', { name: answer, exact: true }).check();
        else await asked.getByRole('textbox').fill(answer);
        await asked.getByRole('button', { name: 'Record prediction' }).click();
        await expect.poll(() => asked.innerText(), WAIT).toContain(`You predicted: ${answer}`);
      }
      if (step.hints > 0) {
        // Hints come one at a time.
        await guide.getByRole('button', { name: `Hint (1 of ${step.hints})` }).click();
        const hints = guide.getByRole('region', { name: 'Hints' });
        await hints.waitFor({ timeout: 30_000 });
        expect(await hints.getByRole('listitem').count()).toBe(1);
      }
      await shot(`step-${step.index}`);

      // Show me: the services bring the state to the step's goal; the step is solved with help.
      await guide.getByRole('button', { name: 'Show me' }).click();
      // Solving the last step completes the lab: its summary takes the guide's place (below).
      if (step.index === detail.steps.length) break;
      // It ends as a status (done) or an alert (failed, with the services' reason).
      const ended = guide
        .locator('[role="status"], [role="alert"]')
        .filter({ hasText: 'Show me' })
        .filter({ hasText: /done|failed/ });
      await ended.waitFor({ timeout: TASK.timeout }).catch(async (e: Error) => {
        await shot(`step-${step.index}-show-me-unfinished`);
        throw new Error(`${e.message}\nthe step's guide then read:\n${await guide.innerText()}`);
      });
      expect(await ended.innerText()).toContain('done');
      await expect.poll(() => guide.innerText(), WAIT).toContain('Solved with “Show me”');
      const report = await check();
      await expect.poll(() => report.innerText(), WAIT).toContain('Every check passes');
      expect(await report.locator('li[data-passed="false"]').count()).toBe(0);
      await shot(`step-${step.index}-solved`);
      await guide.getByRole('button', { name: 'Next step' }).click();
    }

    // The end: the summary, each claim next to the student's own numbers.
    const summary = page.getByRole('region', { name: 'Summary', exact: true });
    await summary.waitFor({ timeout: TASK.timeout });
    const fromServices = await harness.call('labs:summary', { lab: walked.id });
    const claims = summary.getByRole('list', { name: 'Claims and your numbers' });
    expect(await claims.locator(':scope > li').count()).toBe(fromServices.claims.length);
    for (const claim of fromServices.claims)
      for (const m of claim.measurements)
        expect(await summary.locator(`[data-measure="${m.id}"]`).first().innerText()).toContain(
          `${m.value} ${m.unit}`,
        );
    expect(fromServices.steps.every((s) => s.outcome === 'solved')).toBe(true);
    // Each claim says whether the student's numbers support it, with the prediction beside it.
    for (const [i, claim] of fromServices.claims.entries()) {
      const item = claims.locator(':scope > li').nth(i);
      expect(await item.getAttribute('data-verdict')).toBe(claim.verdict);
      if (claim.prediction?.answer)
        expect(await item.innerText()).toContain(`You predicted: ${claim.prediction.answer}`);
    }
    await shot('summary');
    expect(errors).toEqual([]);
  }, 900_000);

  it('keeps the progress across a reload of the UI, and fills the 2×2 page', async () => {
    await page.reload();
    await page.getByRole('tab', { name: 'Labs' }).click();
    // The active lab opens again, where it stopped: at its summary.
    await page.getByRole('heading', { name: walked.title, level: 2 }).waitFor({ timeout: 60_000 });
    await page.getByRole('region', { name: 'Summary', exact: true }).waitFor({ timeout: 60_000 });
    const steps = page.getByRole('list', { name: 'Steps' }).first();
    expect(await steps.innerText()).toContain('solved with help');

    // Back on the map, its card says it is done.
    await page.getByRole('button', { name: '← All labs' }).click();
    const card = page.getByRole('article', { name: walked.title, exact: true });
    await expect.poll(() => card.innerText(), WAIT).toContain('completed');

    // The 2×2 page: the lab's cell holds its claims with the student's numbers.
    await page.getByRole('tab', { name: '2×2' }).click();
    const table = page.getByRole('table', { name: '2×2 table' });
    await table.waitFor({ timeout: 30_000 });
    const cell = table.locator(
      `td[data-app="${walked.quadrant.app}"][data-network="${walked.quadrant.network}"]`,
    );
    expect(await cell.innerText()).toContain(walked.title);
    const summary = await harness.call('labs:summary', { lab: walked.id });
    const measured = summary.claims.flatMap((c) => c.measurements);
    expect(measured.length).toBeGreaterThan(0);
    for (const m of measured) expect(await cell.innerText()).toContain(`${m.value} ${m.unit}`);
    // Both attackers' figures in the cell, from the student's own runs.
    const t = (await harness.call('labs:table', {})).cells.find(
      (c) => c.app === walked.quadrant.app && c.network === walked.quadrant.network,
    )!;
    for (const a of ['jumpbox', 'catalog-code'] as const) {
      const figures = t.attackers[a];
      expect(figures, a).not.toBeNull();
      expect(await cell.locator(`[data-attacker="${a}"]`).innerText()).toContain(
        `${figures!.domains} data domain`,
      );
    }
    await shot('two-by-two');
    expect(errors).toEqual([]);
  });
  it('a step that hands out a file opens it in the editor beside the guide, and every edit is saved to the workspace', async () => {
    const segmented = (await harness.call('labs:list', {})).labs.find((l) => l.id === 'monolith-segmented')!;
    await page.getByRole('tab', { name: 'Labs' }).click();
    // The map, as the previous test left it (or from an open lab, back to it).
    const back = page.getByRole('button', { name: '← All labs' });
    if (await back.count()) await back.click();
    await page
      .getByRole('article', { name: segmented.title, exact: true })
      .getByRole('button', { name: /^Open/ })
      .click();
    await page.getByRole('button', { name: 'Start the lab' }).click();
    const guide = page.getByRole('region', { name: /^Step 1: / });
    await guide.waitFor({ timeout: TASK.timeout });
    await guide
      .getByRole('group', { name: 'Actions' })
      .getByRole('button', { name: 'Put the skeleton in my workspace' })
      .click();
    const editor = page.getByRole('region', { name: 'Apply a policy', exact: true });
    // The skeleton, as the workspace holds it, is in the editor: not its placeholder.
    await expect
      .poll(() => editor.locator('.cm-content').innerText(), WAIT)
      .toContain('neighbours-by-own-rule');
    expect(await editor.innerText()).toContain('your workspace: segment-monolith.yaml');
    // An edit in the editor reaches the file the step's buttons apply.
    await editor.locator('.cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('\n# reviewed in class\n', { delay: 20 });
    await expect.poll(() => editor.locator('[data-saved]').getAttribute('data-saved'), WAIT).toBe('saved');
    await expect
      .poll(
        async () =>
          (await harness.call('labs:read', { lab: segmented.id, file: 'segment-monolith.yaml' })).text,
        WAIT,
      )
      .toContain('# reviewed in class');
    await shot('workspace-editor');
    expect(errors).toEqual([]);
  }, 600_000);
});
