/**
 * The microservices from the UI: start them, see the graph laid out by tier with the call
 * graph, scale one service and upgrade another as followed tasks, then load the storefront and
 * watch the live figures and the final report; a policy colours the graph and the flow log.
 * Then a shipped policy picked from the list, first with a firewall on every workload, then
 * behind one perimeter firewall (started from the UI), where the matrix marks the flows inside
 * a segment that no firewall sees; and the policy removed. One deployment reused throughout.
 * Real services, real Docker, real nftables, real Chromium.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness, LabSession } from './harness';
import { openLab, SCREENSHOTS, setEditorText } from './harness';

const WAIT = { timeout: 60_000, interval: 250 };

/** Nothing may reach the PCI segment (payments and its database); everything else is allowed. */
const PCI_ISOLATED = `name: pci-isolated
mode: enforce
defaultAction: allow
segments:
  pci: { selector: { segment: pci } }
rules:
  - id: nobody-reaches-pci
    from: any
    to: { segment: pci }
    action: deny
`;

/** The shop's call graph, as the deployment declares it (who depends on whom). */
const CALLS = [
  'gateway->cart',
  'gateway->catalog',
  'gateway->orders',
  'gateway->users',
  'cart->catalog',
  'orders->cart',
  'orders->catalog',
  'orders->payments',
  ...['cart', 'catalog', 'orders', 'payments', 'users'].map((s) => `${s}->${s}-db`),
  // the neighbours: the operator checks the storefront, the reporting job reads the orders
  'jumpbox->gateway',
  'reporting->orders',
];

describe('the microservices in the lab views', () => {
  let harness: Harness;
  let page: Page;
  let errors: string[];
  let lab: LabSession;

  beforeAll(async () => {
    lab = await openLab();
    ({ harness, page, errors } = lab);
  }, 300_000);

  afterAll(async () => {
    await lab?.close();
  });

  const card = (title: string) => page.getByRole('region', { name: title, exact: true });
  const row = (name: string) =>
    page
      .getByRole('table', { name: 'Workloads' })
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: new RegExp(`^${name} `) }) });

  it('starts them and draws the call graph in tier columns', async () => {
    await page.getByRole('tab', { name: 'Deployment' }).click();
    const deployment = card('Deployment');
    await deployment.getByRole('radio', { name: /Microservices/ }).check();
    await deployment.getByRole('button', { name: 'Start the microservices' }).click();
    await deployment
      .getByRole('status')
      .filter({ hasText: 'Start the microservices: done' })
      .waitFor({ timeout: 180_000 });

    const status = await harness.call('deploy:status', {});
    expect(status.deployment).toBe('microservices');
    const names = [...new Set(status.workloads.map((w) => w.workload))].sort();
    expect(names).toHaveLength(13);
    for (const name of names)
      await expect.poll(() => row(name).getByRole('cell').nth(2).innerText(), WAIT).toBe('healthy');

    const graph = page.getByTestId('deployment-graph');
    await expect.poll(() => graph.locator('.react-flow__node').count(), WAIT).toBe(names.length + 1);
    const edges = await graph
      .locator('.react-flow__edge')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.replace(/^rf__edge-/, '')).sort());
    expect(edges).toEqual([...CALLS, '_browser->gateway'].sort());
    // Columns by tier: browser, gateway, services, databases. Inside a tier, a callee sits
    // right of its caller (orders -> cart -> catalog); a service's database is on its row.
    const box = async (id: string) => (await graph.getByTestId(`rf__node-${id}`).boundingBox())!;
    const x = async (id: string) => (await box(id)).x;
    const order = ['_browser', 'gateway', 'orders', 'cart', 'catalog', 'catalog-db'];
    const xs = await Promise.all(order.map(x));
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    expect(new Set(xs).size).toBe(xs.length);
    expect(await x('users')).toBe(await x('orders'));
    expect(await x('payments')).toBe(await x('cart'));
    for (const s of ['cart', 'catalog', 'orders', 'payments', 'users']) {
      expect((await box(`${s}-db`)).y, s).toBe((await box(s)).y);
      expect(await x(`${s}-db`), s).toBe(xs.at(-1));
    }
    // Readable: no edge runs through a node other than its own two ends.
    const crossings = await graph.evaluate((root) => {
      const rects = [...root.querySelectorAll<HTMLElement>('.react-flow__node')].map((n) => ({
        id: n.dataset.id!,
        r: n.getBoundingClientRect(),
      }));
      const found: string[] = [];
      for (const e of root.querySelectorAll<SVGGElement>('.react-flow__edge')) {
        const [src, dst] = e.getAttribute('data-testid')!.replace('rf__edge-', '').split('->');
        const path = e.querySelector<SVGPathElement>('path.react-flow__edge-path')!;
        const ctm = path.getScreenCTM()!;
        for (let l = 0; l <= path.getTotalLength(); l += 2) {
          const p = path.getPointAtLength(l).matrixTransform(ctm);
          for (const { id, r } of rects)
            if (id !== src && id !== dst && p.x > r.left && p.x < r.right && p.y > r.top && p.y < r.bottom)
              found.push(`${src}->${dst} crosses ${id}`);
        }
      }
      return [...new Set(found)];
    });
    expect(crossings).toEqual([]);
    expect(errors).toEqual([]);
  }, 300_000);

  it('scales a service and upgrades another, as followed tasks', async () => {
    const status = card('Status');
    // The gateway publishes the storefront and the databases have one primary: only services scale.
    expect(await row('gateway').getByRole('spinbutton').count()).toBe(0);
    expect(await row('catalog-db').getByRole('spinbutton').count()).toBe(0);

    await row('catalog').getByRole('spinbutton', { name: 'Replicas of catalog' }).fill('2');
    await row('catalog').getByRole('button', { name: 'Scale' }).click();
    await status
      .getByRole('status')
      .filter({ hasText: 'Scale catalog to 2: done' })
      .waitFor({ timeout: 120_000 });
    await expect.poll(() => row('catalog').getByRole('cell').first().innerText(), WAIT).toBe('2');
    const replicas = (await harness.call('deploy:status', {})).workloads.filter(
      (w) => w.workload === 'catalog',
    );
    expect(replicas).toHaveLength(2);
    for (const r of replicas) expect(await row('catalog').innerText()).toContain(r.ip!);
    // Shown, not only present: React Flow hides a node until it has measured it.
    const catalogNode = page.getByTestId('rf__node-catalog');
    await expect
      .poll(() => catalogNode.evaluate((e: HTMLElement) => `${e.style.visibility}: ${e.innerText}`), WAIT)
      .toBe('visible: catalog\n2 replicas · v1');

    await row('cart').getByRole('button', { name: 'Upgrade cart to version 2' }).click();
    await status
      .getByRole('status')
      .filter({ hasText: 'Upgrade cart to version 2: done' })
      .waitFor({ timeout: 120_000 });
    await expect.poll(() => row('cart').getByRole('cell').nth(5).innerText(), WAIT).toBe('v2');
    expect(await row('cart').getByRole('button', { name: 'Upgrade cart to version 2' }).isDisabled()).toBe(
      true,
    );
    // The others kept their version: an isolated upgrade.
    expect(await row('orders').getByRole('cell').nth(5).innerText()).toBe('v1');
    await expect.poll(() => row('cart').getByRole('cell').nth(2).innerText(), WAIT).toBe('healthy');

    await page.screenshot({ path: path.join(SCREENSHOTS, 'deployment-microservices.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('loads the storefront with live figures and a final report', async () => {
    await page.getByRole('tab', { name: 'Load' }).click();
    const run = card('Run a load');
    await run.getByRole('spinbutton', { name: 'Rate (scenarios per second)' }).fill('20');
    await run.getByRole('spinbutton', { name: 'Duration (seconds)' }).fill('6');
    await run.getByRole('spinbutton', { name: 'account' }).fill('1');
    await run.getByRole('button', { name: 'Start the load' }).click();

    // Live: the chart and the last second's figures, while the task runs.
    const live = card('Live figures');
    await live
      .getByRole('img', { name: 'Requests per second and latency over time' })
      .waitFor({ timeout: 30_000 });
    expect(
      await live
        .getByRole('table', { name: 'Last second' })
        .getByRole('row')
        .filter({ hasText: 'all' })
        .count(),
    ).toBe(1);

    await run
      .getByRole('status')
      .filter({ hasText: 'Load at 20/s for 6s: done' })
      .waitFor({ timeout: 60_000 });
    const task = harness.services.tasks
      .list()
      .filter((t) => t.kind === 'load:run')
      .at(-1)!;
    const report = await harness.call('load:report', { taskId: task.id });
    // Every scenario is offered in the form; those left at 0 run nothing.
    expect(Object.fromEntries(Object.entries(report.mix).filter(([, n]) => n! > 0))).toEqual({
      browse: 10,
      cart: 3,
      checkout: 1,
      account: 1,
    });
    const all = report.endpoints.find((e) => e.endpoint === 'all')!;
    expect(all.count).toBeGreaterThan(0);

    const totals = card('Report').getByRole('table', { name: 'Totals' });
    await totals.waitFor({ timeout: 30_000 });
    const cells = await totals
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'all', exact: true }) })
      .getByRole('cell')
      .allInnerTexts();
    expect(cells.slice(0, 2)).toEqual([String(all.count), String(all.errors)]);
    expect(await totals.getByRole('row').count()).toBe(report.endpoints.length + 1);

    await page.screenshot({ path: path.join(SCREENSHOTS, 'load.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('colours the calls by the policy in force, and logs the flows it denies', async () => {
    await page.getByRole('tab', { name: 'Firewall' }).click();
    const editor = card('Apply a policy');
    await setEditorText(editor.getByRole('textbox', { name: 'Policy text' }), PCI_ISOLATED);
    await editor.getByRole('button', { name: 'Apply' }).click();
    await editor.getByRole('status').filter({ hasText: 'Applied pci-isolated' }).waitFor({ timeout: 60_000 });

    const matrixCard = card('Reachability matrix');
    await expect
      .poll(() => matrixCard.getByRole('button', { name: 'Run probes' }).isEnabled(), WAIT)
      .toBe(true);
    await matrixCard.getByRole('button', { name: 'Run probes' }).click();
    const verdict = matrixCard.getByRole('status');
    await verdict.waitFor({ timeout: 60_000 });
    const report = await harness.call('probe:run', {});
    expect(report.mismatches).toBe(0);
    expect(await verdict.innerText()).toContain(
      `Observed matches expected in all ${report.cells.length} probes`,
    );
    const cell = matrixCard
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: 'orders', exact: true }) })
      .locator('td[data-observed]')
      .filter({ hasText: 'nobody-reaches-pci' });
    // orders -> payments:8080 and orders -> payments-db:5432, both blocked as expected.
    expect(await cell.count()).toBe(2);
    for (const c of await cell.all()) expect(await c.getAttribute('data-match')).toBe('true');

    // The flow log shows the denied connections live, with the deciding rule.
    const denied = card('Flow log')
      .getByRole('row')
      .filter({ hasText: 'nobody-reaches-pci' })
      .filter({ hasText: 'denied' });
    await expect.poll(() => denied.count(), WAIT).toBeGreaterThan(0);
    // The counters count them.
    const counter = card('Rule counters').getByRole('row').filter({ hasText: 'nobody-reaches-pci' });
    await expect.poll(() => counter.count(), WAIT).toBe(1);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'firewall-microservices.png'), fullPage: true });

    // The graph: the calls into the PCI segment are denied, the others allowed.
    await page.getByRole('tab', { name: 'Deployment' }).click();
    const graph = page.getByTestId('deployment-graph');
    const classOf = (id: string) => graph.getByTestId(`rf__edge-${id}`).getAttribute('class');
    await expect.poll(() => classOf('orders->payments'), WAIT).toContain('edge-denied');
    expect(await classOf('payments->payments-db')).toContain('edge-denied');
    expect(await classOf('orders->cart')).toContain('edge-allowed');
    expect(await graph.getByTestId('rf__edge-orders->payments').textContent()).toBe('nobody-reaches-pci');
    expect(await card('Call graph').getByText('Policy segments').count()).toBe(1);
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'deployment-microservices-policy.png'),
      fullPage: true,
    });
    expect(errors).toEqual([]);
  });

  const SHIPPED = 'microservices-segmented.yaml';
  const matrixCell = (src: string, dst: string, port: number) =>
    card('Reachability matrix')
      .getByRole('table', { name: 'Reachability matrix' })
      .getByRole('row')
      .filter({ has: page.getByRole('rowheader', { name: src, exact: true }) })
      .locator(`td[data-dst="${dst}"][data-port="${port}"]`);

  /** Picks the shipped segmented policy in the editor, applies it, and runs the probes. */
  const applyShippedAndProbe = async () => {
    await page.getByRole('tab', { name: 'Firewall' }).click();
    const editor = card('Apply a policy');
    const picker = editor.getByRole('combobox', { name: 'Policy' });
    // Listed under the running deployment, as the services list it, with its title.
    const shipped = (await harness.call('policy:list', {})).find((p) => p.name === SHIPPED)!;
    expect(shipped.deployment).toBe('microservices');
    const group = picker.locator('optgroup', { has: page.locator(`option[value="${shipped.file}"]`) });
    expect(await group.getAttribute('label')).toBe('For the microservices (running)');
    expect(await picker.locator('optgroup').first().getAttribute('label')).toBe(
      'For the microservices (running)',
    );
    await picker.selectOption({ label: SHIPPED });
    expect(await editor.getByText(shipped.title, { exact: true }).count()).toBe(1);
    // The text box is for one's own policy: a shipped one is applied by its file.
    expect(await editor.getByRole('textbox').count()).toBe(0);
    await editor.getByRole('combobox', { name: 'Mode' }).selectOption('policy');
    const applies = harness.calls('policy:apply');
    await editor.getByRole('button', { name: 'Apply' }).click();
    const applied = editor.getByRole('status').filter({ hasText: 'Applied microservices-segmented' });
    await applied.waitFor({ timeout: 60_000 });
    expect(await applied.innerText()).toContain('0 failed');
    expect(harness.calls('policy:apply')).toBe(applies + 1);
    const shown = await harness.call('policy:show', {});
    expect(shown.source?.file).toBe(shipped.file);
    await expect.poll(() => card('Policy in force').innerText(), WAIT).toContain('microservices-segmented');

    const matrixCard = card('Reachability matrix');
    // A new policy clears the last matrix.
    await expect.poll(() => matrixCard.getByRole('table').count(), WAIT).toBe(0);
    await matrixCard.getByRole('button', { name: 'Run probes' }).click();
    const verdict = matrixCard.getByRole('status');
    await verdict.waitFor({ timeout: 60_000 });
    expect(await verdict.innerText()).toMatch(/^Observed matches expected in all \d+ probes/);
    expect(await matrixCard.locator('td.cell-bad').count()).toBe(0);
    expect(await matrixCard.locator('td[data-match="false"]').count()).toBe(0);
    return { matrixCard, verdict };
  };

  it('applies a shipped policy picked from the list, and the matrix agrees with it', async () => {
    const { matrixCard } = await applyShippedAndProbe();
    // Segment firewalls on every workload: the allowlist decides every flow.
    const allowed = matrixCell('orders', 'payments', 8080);
    expect(await allowed.getAttribute('data-observed')).toBe('connected');
    expect(await allowed.getAttribute('class')).toContain('cell-open');
    const denied = matrixCell('catalog', 'orders-db', 5432);
    expect(await denied.getAttribute('data-observed')).toBe('timeout');
    expect(await denied.getAttribute('data-rule')).toBe('default');
    expect(await matrixCard.locator('td.cell-unseen').count()).toBe(0);
    expect(await matrixCard.getByRole('note', { name: 'Same-segment flows' }).count()).toBe(0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'firewall-shipped-policy.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  const graphNode = (name: string) => page.getByTestId('deployment-graph').getByTestId(`rf__node-${name}`);
  const blastOf = (name: string) => graphNode(name).locator('.wl').getAttribute('data-blast');
  const blastSummary = () => card('Call graph').getByRole('status', { name: 'Blast radius' }).innerText();

  it('picks the jumpbox as compromised: what it reaches lights up, the rest greys out, and a policy switch updates it', async () => {
    await page.getByRole('tab', { name: 'Deployment' }).click();
    const picker = card('Call graph').getByRole('combobox', { name: 'Compromised workload' });
    await picker.selectOption('jumpbox');
    await expect
      .poll(blastSummary, { ...WAIT, timeout: 120_000 })
      .toMatch(
        /^jumpbox reaches 1 of 12 workloads \(0 databases\) observed from inside it; the policy expects the same\.$/,
      );
    expect(await blastOf('jumpbox')).toBe('source');
    expect(await blastOf('gateway')).toBe('reached');
    for (const name of ['orders', 'payments-db', 'reporting', 'users-db'])
      expect(await blastOf(name)).toBe('dim');
    const graph = page.getByTestId('deployment-graph');
    expect(await graph.getAttribute('data-compromised')).toBe('jumpbox');
    expect(await graph.getByTestId('rf__edge-blast:jumpbox->gateway').count()).toBe(1);
    expect(await graph.getByTestId('rf__edge-orders->payments').getAttribute('class')).toContain('edge-dim');
    // The API says the same, probed from inside the jumpbox.
    const api = await harness.call('blast:radius', { workload: 'jumpbox' });
    expect(api.observed).toEqual({ reached: ['gateway'], databases: 0 });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'deployment-blast-radius.png'), fullPage: true });

    // A flat policy: the jumpbox reaches everything, the five databases included.
    const flat = (await harness.call('policy:list', {})).find((p) => p.name === 'microservices-flat.yaml')!;
    await harness.call('policy:apply', { file: flat.file });
    await expect
      .poll(blastSummary, { ...WAIT, timeout: 120_000 })
      .toMatch(/^jumpbox reaches 12 of 12 workloads \(5 databases\)/);
    expect(await blastOf('payments-db')).toBe('reached');
    expect(await graph.getByTestId('rf__edge-blast:jumpbox->payments-db').count()).toBe(1);
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'deployment-blast-radius-flat.png'),
      fullPage: true,
    });

    await picker.selectOption('');
    await expect.poll(() => graph.getAttribute('data-compromised'), WAIT).toBe(null);
    expect(await graph.locator('[data-blast]').count()).toBe(0);
    expect(errors).toEqual([]);
  }, 300_000);

  it('starts the microservices behind one perimeter firewall from the UI', async () => {
    await page.getByRole('tab', { name: 'Deployment' }).click();
    const deployment = card('Deployment');
    await deployment.getByRole('radio', { name: /Microservices/ }).check();
    const flat = deployment.getByRole('radio', { name: /Segment firewalls on every workload/ });
    expect(await flat.isChecked()).toBe(true);
    await deployment.getByRole('radio', { name: /One perimeter firewall between segments/ }).check();
    expect(await deployment.innerText()).toContain('This replaces the microservices.');
    await deployment
      .getByRole('button', { name: 'Start the microservices behind a perimeter firewall' })
      .click();
    await deployment
      .getByRole('status')
      .filter({ hasText: 'Start the microservices behind a perimeter firewall: done' })
      .waitFor({ timeout: 180_000 });

    const status = await harness.call('deploy:status', {});
    expect(status.layout).toBe('perimeter');
    await expect.poll(() => card('Status').innerText(), WAIT).toContain('behind one perimeter firewall');
    await expect
      .poll(() => page.getByRole('navigation').getByLabel('Running deployment').innerText(), WAIT)
      .toBe('microservices running behind a perimeter');
    // The status flags: nothing scales or upgrades behind a perimeter; the gateway is the entry.
    const table = page.getByRole('table', { name: 'Workloads' });
    await expect.poll(() => row('catalog').getByRole('cell').first().innerText(), WAIT).toBe('1');
    expect(status.workloads.every((w) => !w.scalable && !w.upgradable)).toBe(true);
    expect(await table.getByRole('spinbutton').count()).toBe(0);
    // Only the terminal buttons (Shell, Firewall) remain: no upgrade.
    expect(await table.getByRole('button', { name: /upgrade/i }).count()).toBe(0);
    expect(await table.getByRole('button', { name: 'Open a terminal in gateway' }).count()).toBe(1);
    expect(await row('gateway').getByText('storefront', { exact: true }).count()).toBe(1);
    expect(await table.getByText('storefront', { exact: true }).count()).toBe(1);
    const link = card('Status').getByRole('link', { name: status.storefront! });
    expect(await link.getAttribute('target')).toBe('_blank');

    // The router, named in the graph's banner with the segment networks it stands between.
    const banner = card('Call graph').getByRole('note', { name: 'Perimeter firewall' });
    await expect.poll(() => banner.innerText(), WAIT).toContain('perimeter-fw');
    expect(await banner.innerText()).toContain('edge, identity, pci, shop');
    expect(await page.getByTestId('deployment-graph').getAttribute('data-layout')).toBe('perimeter');
    expect(errors).toEqual([]);
  }, 300_000);

  it('applies the same policy at the perimeter: same-segment flows pass unseen, then removes it', async () => {
    const { matrixCard, verdict } = await applyShippedAndProbe();
    // Between segments the router decides as the segment firewalls did...
    const allowed = matrixCell('orders', 'payments', 8080);
    expect(await allowed.getAttribute('data-observed')).toBe('connected');
    expect(await allowed.getAttribute('class')).toContain('cell-open');
    const blocked = matrixCell('gateway', 'payments', 8080);
    expect(await blocked.getAttribute('data-observed')).toBe('timeout');
    expect(await blocked.getAttribute('class')).toContain('cell-closed');
    // ...inside a segment nothing does: catalog reaches the orders database, which the policy denies.
    const unseen = matrixCell('catalog', 'orders-db', 5432);
    expect(await unseen.getAttribute('data-observed')).toBe('connected');
    expect(await unseen.getAttribute('data-rule')).toBe('_same-segment');
    expect(await unseen.getAttribute('class')).toContain('cell-unseen');
    expect(await unseen.innerText()).toContain('same segment');
    // Every same-segment cell, and only those, is marked, and the note counts their probes.
    const marked = await matrixCard.locator('td.cell-unseen').count();
    expect(marked).toBeGreaterThan(0);
    expect(await matrixCard.locator('td[data-rule="_same-segment"]').count()).toBe(marked);
    const total = Number(/in all (\d+) probes/.exec(await verdict.innerText())![1]);
    const note = matrixCard.getByRole('note', { name: 'Same-segment flows' });
    expect(await note.innerText()).toMatch(new RegExp(`^\\d+ of ${total} probes stay inside one segment`));
    expect(await matrixCard.innerText()).toContain('same segment: not seen by the firewall');
    expect(
      await card('Policy in force').getByRole('note', { name: 'Where the policy is enforced' }).innerText(),
    ).toContain('enforced only at the router, perimeter-fw');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'firewall-perimeter.png'), fullPage: true });

    // The graph: calls inside a segment drawn as unseen, calls between segments by verdict.
    await page.getByRole('tab', { name: 'Deployment' }).click();
    const graph = page.getByTestId('deployment-graph');
    const classOf = (id: string) => graph.getByTestId(`rf__edge-${id}`).getAttribute('class');
    await expect.poll(() => classOf('orders->cart'), WAIT).toContain('edge-unseen');
    expect(await classOf('catalog->catalog-db')).toContain('edge-unseen');
    expect(await classOf('orders->payments')).toContain('edge-allowed');
    expect(await classOf('gateway->orders')).toContain('edge-allowed');
    const legend = card('Call graph');
    expect(await legend.getByText('inside a segment: not seen by the firewall').count()).toBe(1);
    expect(await legend.getByText('Segment networks', { exact: true }).count()).toBe(1);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'deployment-perimeter.png'), fullPage: true });

    // The same compromised jumpbox behind the perimeter: its whole segment (shop) is open to
    // it, three databases included, whatever the policy says; the router still stops the rest.
    const picker = card('Call graph').getByRole('combobox', { name: 'Compromised workload' });
    await picker.selectOption('jumpbox');
    await expect
      .poll(blastSummary, { ...WAIT, timeout: 120_000 })
      .toMatch(
        /^jumpbox reaches 8 of 12 workloads \(3 databases\) observed from inside it; the policy expects the same\.$/,
      );
    for (const name of ['orders-db', 'catalog', 'reporting', 'gateway'])
      expect(await blastOf(name)).toBe('reached');
    for (const name of ['payments', 'payments-db', 'users-db']) expect(await blastOf(name)).toBe('dim');
    await page.screenshot({
      path: path.join(SCREENSHOTS, 'deployment-blast-radius-perimeter.png'),
      fullPage: true,
    });
    await picker.selectOption('');

    // Remove the policy: the router lets everything pass, and nothing is in force.
    await page.getByRole('tab', { name: 'Firewall' }).click();
    const inForce = card('Policy in force');
    await inForce.getByRole('button', { name: 'Remove policy' }).click();
    const removed = inForce.getByRole('status').filter({ hasText: 'Removed the policy' });
    await removed.waitFor({ timeout: 60_000 });
    expect(await removed.innerText()).toContain('The perimeter firewall lets every flow pass.');
    expect((await harness.call('policy:show', {})).source).toBeUndefined();
    await expect.poll(() => inForce.innerText(), WAIT).toContain('No policy is in force');
    expect(await inForce.getByRole('button', { name: 'Remove policy' }).isDisabled()).toBe(true);
    await expect.poll(() => matrixCard.getByRole('table').count(), WAIT).toBe(0);
    expect(errors).toEqual([]);
  }, 300_000);
});
