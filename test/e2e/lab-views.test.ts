/**
 * The lab views end to end: start the monolith from the UI and see it healthy in the status
 * table and the graph; apply a segmented policy and see the reachability matrix agree with it;
 * a malformed policy shows its problems by line and column and changes nothing; stop the
 * deployment from the UI. Real services, real Docker, real nftables, real Chromium.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Harness, LabSession } from './harness';
import { openLab, SCREENSHOTS, setEditorText } from './harness';

/** Status is polled every 3 s; a deployment's health checks take a few seconds more. */
const WAIT = { timeout: 60_000, interval: 250 };

/** The monolith in two segments: the app may reach its database on 5432, nothing else is allowed. */
const SEGMENTED = `name: monolith-segments
mode: enforce
defaultAction: deny
segments:
  app: { selector: { tier: app } }
  data: { selector: { tier: db } }
rules:
  - id: app-to-data
    from: { segment: app }
    to: { segment: data }
    ports: [5432]
    action: allow
`;

/** Two mistakes at known places: a port out of range (line 11) and an unknown action (line 12). */
const MALFORMED = `name: broken
mode: enforce
defaultAction: deny
segments:
  app: { selector: { tier: app } }
  data: { selector: { tier: db } }
rules:
  - id: app-to-data
    from: { segment: app }
    to: { segment: data }
    ports: [70000]
    action: permit
`;

describe('the lab views', () => {
  let harness: Harness;
  let lab: LabSession;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    lab = await openLab();
    ({ harness, page, errors } = lab);
  }, 300_000);

  afterAll(async () => {
    await lab?.close();
  });

  // What the page showed when a test failed, next to the screenshots of the passing ones.
  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      const name = task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
      await page?.screenshot({ path: path.join(SCREENSHOTS, `failed-${name}.png`), fullPage: true });
    });
  });

  const card = (title: string) => page.getByRole('region', { name: title, exact: true });
  const openTab = async (name: string) => {
    await page.getByRole('tab', { name, exact: true }).click();
    expect(await page.getByRole('tab', { name, exact: true }).getAttribute('aria-selected')).toBe('true');
  };

  it('starts the monolith and shows it healthy in the table and the graph', async () => {
    // The first screen points to the Deployment view, and its button opens it.
    const next = card('Next');
    await expect.poll(() => next.innerText(), WAIT).toContain('This machine is ready');
    await next.getByRole('button', { name: 'Open the Deployment view' }).click();
    expect(await page.getByRole('tab', { name: 'Deployment' }).getAttribute('aria-selected')).toBe('true');

    const deployment = card('Deployment');
    await expect.poll(() => card('Status').innerText(), WAIT).toContain('Nothing is running');
    await deployment.getByRole('radio', { name: /Monolith/ }).check();
    await deployment.getByRole('button', { name: 'Start the monolith' }).click();

    // A followed task of the services, to its end.
    const done = deployment.getByRole('status').filter({ hasText: 'Start the monolith: done' });
    await done.waitFor({ timeout: 180_000 });
    const task = harness.services.tasks
      .list()
      .filter((t) => t.kind === 'deploy:up')
      .at(-1)!;
    expect(task.state).toBe('succeeded');
    expect(await done.innerText()).toContain(task.result!);

    // The status table: one row per workload, healthy, with the engine's own addresses.
    const status = await harness.call('deploy:status', {});
    expect(status.deployment).toBe('monolith');
    expect(status.healthy).toBe(true);
    const table = page.getByRole('table', { name: 'Workloads' });
    for (const name of ['shop', 'shop-db']) {
      const row = table
        .getByRole('row')
        .filter({ has: page.getByRole('rowheader', { name: new RegExp(`^${name} `) }) });
      await expect.poll(() => row.count(), WAIT).toBe(1);
      await expect.poll(() => row.getByRole('cell').nth(2).innerText(), WAIT).toBe('healthy');
      const ip = status.workloads.find((w) => w.workload === name)!.ip!;
      expect(await row.innerText()).toContain(ip);
    }
    // The storefront, where the services say it is.
    expect(status.storefront).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const link = card('Status').getByRole('link', { name: status.storefront! });
    expect(await link.getAttribute('href')).toBe(status.storefront);
    // The monolith scales and upgrades only as a whole: one replica count, the shop's.
    expect(await table.getByRole('spinbutton').count()).toBe(1);
    expect(await table.getByRole('button', { name: 'Upgrade shop to version 2' }).isEnabled()).toBe(true);
    expect(await page.getByRole('navigation').getByLabel('Running deployment').innerText()).toBe(
      'monolith running',
    );

    // The graph: the app, its database and the neighbours, healthy, and the calls
    // browser -> shop -> shop-db, jumpbox -> shop, reporting -> shop.
    const graph = page.getByTestId('deployment-graph');
    for (const name of ['shop', 'shop-db', 'jumpbox', 'reporting']) {
      const node = graph.getByTestId(`rf__node-${name}`);
      await expect.poll(() => node.locator('.wl').getAttribute('aria-label'), WAIT).toBe(`${name}, healthy`);
    }
    expect(await graph.locator('.react-flow__node').count()).toBe(5);
    expect(await graph.getByTestId('rf__edge-shop->shop-db').count()).toBe(1);
    expect(await graph.getByTestId('rf__edge-reporting->shop').count()).toBe(1);
    expect(await graph.getByTestId('rf__edge-_browser->shop').count()).toBe(1);

    await page.screenshot({ path: path.join(SCREENSHOTS, 'deployment-monolith.png'), fullPage: true });
    // Nothing blocked by the CSP (React Flow's stylesheet is a file), no script errors.
    expect(errors).toEqual([]);
  }, 300_000);

  it('the policy editor completes, explains, underlines problems and shows the expected matrix as you type', async () => {
    await openTab('Firewall');
    const applies = harness.calls('policy:apply');
    const editor = card('Apply a policy');
    const text = editor.getByRole('textbox', { name: 'Policy text' });
    await text.click();

    // Completion from the policy schema: the values a key takes.
    await page.keyboard.type('defaultAction: ');
    await page.keyboard.press('Control+Space');
    const options = page.getByRole('listbox');
    await options.waitFor({ timeout: 10_000 });
    expect(await options.getByRole('option').allInnerTexts()).toEqual(['allow', 'deny', 'reject']);
    // CodeMirror ignores keys pressed within 75 ms of a list opening (its interactionDelay, so a
    // key typed before the student saw the list does not pick from it): wait as a reader would.
    await page.waitForTimeout(150);
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => options.getByRole('option', { selected: true }).innerText(), WAIT).toBe('deny');
    await page.keyboard.press('Enter');
    // ...and, under a selector, the labels of the running workloads.
    await page.keyboard.type('\nsegments:\n  data: { selector: { ');
    await page.keyboard.press('Control+Space');
    await options.getByRole('option', { name: 'tier' }).waitFor({ timeout: 10_000 });
    await page.keyboard.press('Escape');
    expect(await text.innerText()).toContain('defaultAction: deny');

    // Hover: what a key means, from the schema.
    await editor.locator('.cm-line', { hasText: 'defaultAction' }).getByText('defaultAction').hover();
    const tooltip = page.locator('.cm-tooltip-hover');
    await tooltip.waitFor({ timeout: 10_000 });
    expect(await tooltip.innerText()).toContain('One of: allow, deny, reject');

    // Problems underlined at their place as you type, before any button.
    await setEditorText(text, MALFORMED);
    await expect.poll(() => editor.locator('.cm-lintRange-error').count(), WAIT).toBe(2);
    expect(await editor.innerText()).toContain('2 problems underlined');
    expect(await editor.getByRole('table', { name: 'Expected matrix' }).count()).toBe(0);

    // A valid text: its expected matrix against what runs, before it is applied.
    await setEditorText(text, SEGMENTED);
    const expected = editor.getByRole('table', { name: 'Expected matrix' });
    await expected.waitFor({ timeout: 30_000 });
    const cellOf = (src: string, dst: string) => expected.locator(`td[data-src="${src}"][data-dst="${dst}"]`);
    expect(await cellOf('shop', 'shop-db').getAttribute('data-verdict')).toBe('allowed');
    expect(await cellOf('shop', 'shop-db').getAttribute('data-rule')).toBe('app-to-data');
    expect(await cellOf('shop-db', 'shop').getAttribute('data-verdict')).toBe('denied');
    expect(await cellOf('shop-db', 'shop').getAttribute('data-rule')).toBe('default');
    // No policy is in force yet: the denied flow changes verdict.
    expect(await cellOf('shop-db', 'shop').getAttribute('data-changed')).toBe('true');
    // What the services' evaluator says, as the summary says it.
    const preview = await harness.call('policy:evaluate', { text: SEGMENTED });
    const blocked = preview.flows.filter((f) => f.verdict === 'denied').length;
    expect(blocked).toBe(preview.flows.length - 1);
    expect(await editor.getByRole('status').filter({ hasText: 'If applied' }).innerText()).toContain(
      `${blocked} of ${preview.flows.length} flows blocked, ${preview.changed} change verdict`,
    );
    expect(await editor.innerText()).toContain('· valid');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'firewall-editor-preview.png'), fullPage: true });
    // Nothing was applied.
    expect(harness.calls('policy:apply')).toBe(applies);
    expect((await harness.call('policy:show', {})).source).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('applies a segmented policy, and the matrix shows expected and observed agree', async () => {
    await openTab('Firewall');
    const editor = card('Apply a policy');
    await setEditorText(editor.getByRole('textbox', { name: 'Policy text' }), SEGMENTED);
    await editor.getByRole('combobox', { name: 'Mode' }).selectOption('enforce');
    await editor.getByRole('button', { name: 'Apply' }).click();
    const applied = editor
      .getByRole('status')
      .filter({ hasText: 'Applied monolith-segments in enforce mode' });
    await applied.waitFor({ timeout: 60_000 });
    expect(await applied.innerText()).toContain('0 failed');

    // The policy in force, as the services hold it.
    const shown = await harness.call('policy:show', {});
    expect(shown.policy?.name).toBe('monolith-segments');
    const inForce = card('Policy in force');
    await expect.poll(() => inForce.innerText(), WAIT).toContain('monolith-segments');
    const segments = inForce.getByRole('table', { name: 'Workload segments' });
    expect(await segments.getByRole('row').filter({ hasText: 'shop-db' }).innerText()).toMatch(
      /data\s+enforce/,
    );

    // The matrix: rows are sources, columns destination:port, each cell observed and expected.
    const matrixCard = card('Reachability matrix');
    await matrixCard.getByRole('button', { name: 'Run probes' }).click();
    const matrix = matrixCard.getByRole('table', { name: 'Reachability matrix' });
    await matrix.waitFor({ timeout: 60_000 });
    // Four workloads (the shop, its database, the jumpbox and the reporting job): every source
    // to every port of every other one.
    expect(await matrixCard.getByRole('status').innerText()).toMatch(
      /Observed matches expected in all \d+ probes/,
    );
    const headers = await matrix.getByRole('columnheader').allInnerTexts();
    expect(headers).toContain('shop\n:8080');
    expect(headers).toContain('shop-db\n:5432');
    // A cell by its source row and its destination column (the first header is the corner).
    const cell = (src: string, column: string) =>
      matrix
        .getByRole('row')
        .filter({ has: page.getByRole('rowheader', { name: src }) })
        .getByRole('cell')
        .nth(headers.indexOf(column) - 1);
    const allowed = cell('shop', 'shop-db\n:5432');
    expect(await allowed.getAttribute('data-observed')).toBe('connected');
    expect(await allowed.getAttribute('data-expected')).toBe('connected');
    expect(await allowed.innerText()).toContain('app-to-data');
    const denied = cell('shop-db', 'shop\n:8080');
    expect(await denied.getAttribute('data-observed')).toBe('timeout');
    expect(await denied.getAttribute('data-expected')).toBe('timeout');
    expect(await denied.innerText()).toContain('default');
    expect(await matrix.locator('td.cell-bad').count()).toBe(0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'firewall-matrix.png'), fullPage: true });

    // The graph colours the call by the policy's verdict.
    await openTab('Deployment');
    const edge = page.getByTestId('deployment-graph').getByTestId('rf__edge-shop->shop-db');
    await expect.poll(() => edge.getAttribute('class'), WAIT).toContain('edge-allowed');
    expect(errors).toEqual([]);
  });

  it('shows a malformed policy’s problems by line and column, and changes nothing', async () => {
    await openTab('Firewall');
    const before = await harness.call('policy:show', {});
    const applies = harness.calls('policy:apply');
    const editor = card('Apply a policy');
    await setEditorText(editor.getByRole('textbox', { name: 'Policy text' }), MALFORMED);
    // The live preview below the editor re-renders as the text is checked; the button itself is enabled.
    const apply = editor.getByRole('button', { name: 'Apply' });
    await expect.poll(() => apply.isEnabled(), WAIT).toBe(true);
    await apply.click({ force: true });

    const problems = editor.getByRole('alert');
    await problems.waitFor({ timeout: 30_000 });
    expect(await problems.innerText()).toContain('nothing was applied, the policy in force stays');
    const items = await problems.getByRole('listitem').allInnerTexts();
    // What the services find, at the places they say, shown as they say.
    const { issues } = await harness.call('policy:validate', { text: MALFORMED });
    expect(issues.map((i) => i.line).sort()).toEqual([11, 12]);
    expect(items).toHaveLength(issues.length);
    for (const issue of issues)
      expect(
        items.some((t) => t.startsWith(`Line ${issue.line}, column ${issue.column}: ${issue.message}`)),
      ).toBe(true);

    // A click on a problem puts the cursor on its line.
    await problems.getByRole('button', { name: /^Line 12,/ }).click();
    // The code editor (in a shadow root) mirrors its selection in the DOM; the problems are underlined too.
    const selection = () =>
      page.evaluate(() => {
        const root = document.querySelector('.code-editor')?.shadowRoot as
          (ShadowRoot & { getSelection?: () => Selection | null }) | null | undefined;
        return root?.getSelection?.()?.toString();
      });
    await expect.poll(selection, WAIT).toBe('permit');
    await expect.poll(() => editor.locator('.cm-lintRange-error').count(), WAIT).toBe(issues.length);

    // Nothing changed: no apply was sent, and the policy in force is the one before.
    expect(harness.calls('policy:apply')).toBe(applies);
    const after = await harness.call('policy:show', {});
    expect(after.source).toEqual(before.source);
    expect(await card('Policy in force').innerText()).toContain('monolith-segments');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'firewall-malformed.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('stops the deployment from the UI', async () => {
    await openTab('Deployment');
    const deployment = card('Deployment');
    await deployment.getByRole('button', { name: 'Stop the deployment' }).click();
    const stopped = deployment.getByRole('status').filter({ hasText: /^Stopped: removed \d+ resources\./ });
    await stopped.waitFor({ timeout: 60_000 });

    await expect.poll(() => card('Status').innerText(), WAIT).toContain('Nothing is running');
    expect(await page.getByRole('table', { name: 'Workloads' }).count()).toBe(0);
    expect(await card('Call graph').innerText()).toContain('The graph appears when a deployment runs');
    expect(await deployment.getByRole('button', { name: 'Stop the deployment' }).isDisabled()).toBe(true);
    const status = await harness.call('deploy:status', {});
    expect(status.workloads).toEqual([]);
    expect(status.deployment).toBeUndefined();
    expect(errors).toEqual([]);
  });
});
