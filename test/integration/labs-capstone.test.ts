/**
 * Lab 6 (capstone: diagnose) on the real engine: start with the monitor-mode policy in force;
 * the first step's checks fail before the student acts; the student's path (copy the policy
 * into the workspace, edit it, save, answer) passes, and a wrong fix fails saying what is wrong
 * (a file that does not validate; a flow whose verdict differs from the target); each step's
 * fix is applied and checked on the real firewalls (matrix, counters, checkout under load); the
 * same broken rollout under a checkout load fails fewer checkouts when established connections
 * are kept than when they are cut; the renamed selector's rule counts nothing until the fix;
 * the measurements support each claim's relation; reset of a step and of the lab restore the
 * policy.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckReport, Measurement } from '../../electron/api/contract';
import { shopLabForFile, explainStep, predictStep } from './shop-support';

const project = 'microlab-it-labs-capstone';
const { l } = shopLabForFile(project, { labPort: 0 });
const LAB = 'capstone';

const failing = (r: CheckReport) => r.results.filter((x) => !x.passed).map((x) => x.message);

const predictFirst = () => predictStep(l, LAB);
const explain = (questions: { id: string }[]) => explainStep(l, questions);
const policyInForce = async () => path.basename((await l.call('policy:show', {})).source?.file ?? '');

/** The student's edit: read the workspace file, change it, save it. */
async function edit(file: string, change: (text: string) => string): Promise<void> {
  const { text } = await l.call('labs:read', { lab: LAB, file });
  const changed = change(text);
  expect(changed).not.toBe(text);
  await l.call('labs:save', { lab: LAB, file, text: changed });
}

describe('lab 6 (capstone) on the real engine', () => {
  const measured = new Map<string, Measurement>();
  const record = (r: CheckReport) => {
    for (const m of r.measurements) measured.set(m.id, m);
    expect(r.notRecorded).toEqual([]);
  };
  const value = (id: string) => {
    const m = measured.get(id);
    if (!m) throw new Error(`no measurement ${id}`);
    return m.value;
  };

  it('starts with the monitor-mode policy in force; step 1 is current', async () => {
    await l.run('labs:start', { lab: LAB });
    expect(await l.call('labs:status', {})).toMatchObject({ lab: LAB, step: 1, steps: 9 });
    expect(await l.call('deploy:status', {})).toMatchObject({ deployment: 'microservices' });
    expect(await policyInForce()).toBe('microservices-monitor.yaml');
  });

  let firstWhys: { id: string }[] = [];
  it('ticket 1 fails before the student acts (a prediction first), with the symptom reproduced', async () => {
    firstWhys = await predictFirst();
    const report = await l.call('labs:check', {});
    expect(report.passed).toBe(false);
    expect(report.results[0]).toMatchObject({ passed: true }); // gateway -> payments-db connected, audit
    expect(failing(report)).toEqual([
      'no answer to "catalog-mode" yet',
      'enforced.yaml is not in the workspace yet',
    ]);
  });

  it('ticket 1: a fix that does not validate fails saying where; the real fix passes', async () => {
    await l.run('labs:action', { action: 'copy' });
    // Deleting the `shop` segment instead of its mode: the rules that name it no longer resolve.
    await edit('enforced.yaml', (t) => t.replace(/\n {2}shop:\n(?: {4}.*\n)+/, '\n'));
    await l.call('labs:answer', { question: 'catalog-mode', answer: 'monitor' });
    const wrong = failing(await l.call('labs:check', {}));
    expect(wrong, wrong.join(' | ')).toHaveLength(1);
    expect(wrong[0]).toMatch(/^enforced\.yaml does not validate: line \d+:\d+ .*shop/);

    await l.run('labs:action', { action: 'copy' });
    await edit('enforced.yaml', (t) => t.replace(/\n {4}mode: monitor\n/, '\n'));
    const report = await l.call('labs:check', {});
    expect(failing(report), failing(report).join(' | ')).toEqual([]);
    expect(report.outcome).toBe('passed');
    record(report);
    await explain(firstWhys);
    expect(measured.get('gateway-db-monitor')?.value).toBe(5);
  });

  it('ticket 1, applied: every workload enforced, the probe times out, checkout works', async () => {
    await l.call('labs:next', {});
    const whys = await predictFirst();
    const honest = failing(await l.call('labs:check', {}));
    expect(honest).toContain('gateway -> payments-db:5432 connected; the step expects it blocked');
    await l.run('labs:action', { action: 'apply' });
    const report = await l.call('labs:check', {});
    expect(failing(report), failing(report).join(' | ')).toEqual([]);
    record(report);
    await explain(whys);
    expect(measured.get('gateway-db-enforced')?.value).toBe(0);
  });

  it("ticket 2: the database team's policy lets the gateway into payments-db; a fix that breaks the status page fails naming the flow", async () => {
    await l.call('labs:next', {});
    const whys = await predictFirst();
    expect((await l.call('labs:check', {})).passed).toBe(false);
    await l.run('labs:action', { action: 'rollout' });
    expect(await policyInForce()).toBe('microservices-broken-priority.yaml');
    await l.run('labs:action', { action: 'copy' });
    await l.call('labs:answer', { question: 'deciding-rule', answer: 'pci-isolation' });
    // Deleting gateway-db-checks keeps the gateway out of payments-db, and out of every other database.
    await edit('db-monitoring.yaml', (t) => t.replace(/\n {2}- id: gateway-db-checks\n(?: {4}.*\n)+/, '\n'));
    const wrong = failing(await l.call('labs:check', {}));
    expect(wrong[0]).toBe('"pci-isolation" is not the answer to "deciding-rule"');
    expect(wrong[1]).toMatch(/gateway -> \w+-db:5432\/tcp denied \(rule [^)]+\); the step expects allowed/);

    await l.call('labs:answer', { question: 'deciding-rule', answer: 'gateway-db-checks' });
    await l.run('labs:action', { action: 'copy' });
    await edit('db-monitoring.yaml', (t) => t.replace(/priority: 500/, 'priority: 250'));
    const report = await l.call('labs:check', {});
    expect(failing(report), failing(report).join(' | ')).toEqual([]);
    record(report);
    await explain(whys);
    expect(measured.get('gateway-db-broken')?.value).toBe(5);
  });

  it('ticket 2, applied with "Show me": pci-isolation decides and counts, the status page and checkout work', async () => {
    await l.call('labs:next', {});
    const whys = await predictFirst();
    expect(failing(await l.call('labs:check', {}))).toContain(
      'gateway -> payments-db:5432 connected; the step expects it blocked',
    );
    await l.run('labs:solve', {});
    expect(await policyInForce()).toBe('db-monitoring.yaml');
    const report = await l.call('labs:check', {});
    expect(failing(report), failing(report).join(' | ')).toEqual([]);
    record(report);
    await explain(whys);
    expect(measured.get('gateway-db-fixed')?.value).toBe(4);
    expect(measured.get('pci-isolation-hits')?.value).toBeGreaterThan(0);
    expect(measured.get('gateway-db-fixed')!.value).toBeLessThan(measured.get('gateway-db-broken')!.value);
    const summary = await l.call('labs:summary', { lab: LAB });
    expect(summary.claims.slice(0, 2).every((c) => c.verdict === 'supported')).toBe(true);
  });

  it('ticket 3 as it happened: with --keep-established the pooled connections hide the broken rollout from checkout', async () => {
    await l.call('labs:next', {});
    const whys = await predictFirst();
    expect(failing(await l.call('labs:check', {}))).toEqual(
      expect.arrayContaining([
        'db-monitoring.yaml is in force; the step expects microservices-broken-selector.yaml',
        'no load has run since the step started',
      ]),
    );
    await l.run('labs:solve', {});
    const report = await l.call('labs:check', {});
    expect(failing(report), failing(report).join(' | ')).toEqual([]);
    record(report);
    await explain(whys);
    expect(value('kept-checkout-count')).toBeGreaterThan(0);
    // The agent holds the policy as applied: keeping established connections.
    expect((await l.call('policy:show', {})).source).toMatchObject({ keepEstablished: true });
  });

  it('the same rollout, cutting what it denies: checkout fails at once', async () => {
    await l.call('labs:next', {});
    const whys = await predictFirst();
    expect(failing(await l.call('labs:check', {}))).toContain('no load has run since the step started');
    await l.run('labs:solve', {});
    const report = await l.call('labs:check', {});
    expect(failing(report), failing(report).join(' | ')).toEqual([]);
    record(report);
    await explain(whys);
    expect(value('cut-checkout-errors')).toBeGreaterThan(0);
  });

  it('ticket 3: the renamed selector matches nothing and the default denies orders -> payments; the fix reconnects it', async () => {
    await l.call('labs:next', {});
    const whys = await predictFirst();
    expect((await l.call('labs:check', {})).passed).toBe(false);
    await l.run('labs:action', { action: 'rollout-pci' });
    const symptom = await l.call('labs:check', {});
    expect(symptom.results[0], failing(symptom).join(' | ')).toMatchObject({ passed: true });
    await l.run('labs:solve', {});
    const diagnosed = await l.call('labs:check', {});
    expect(failing(diagnosed)).toEqual([]);
    record(diagnosed);
    await explain(whys);
    // The rule that should carry the flow counted nothing while the probe tried it.
    expect(value('orders-to-payments-broken')).toBe(0);

    await l.call('labs:next', {});
    const whysFix = await predictFirst();
    expect(failing(await l.call('labs:check', {}))).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^orders -> payments:8080 .*; the step expects it connected$/),
      ]),
    );
    await l.run('labs:solve', {});
    const report = await l.call('labs:check', {});
    expect(failing(report), failing(report).join(' | ')).toEqual([]);
    record(report);
    await explain(whysFix);
    expect(measured.get('orders-to-payments-hits')?.value).toBeGreaterThan(0);
    // Step 9 (optional) is still ahead: the lab is not completed yet.
    expect((await l.call('labs:summary', { lab: LAB })).state).not.toBe('completed');
  });

  it("on Monday: ticket 2's policy in NetworkPolicy form; the quiz's answer is the export's", async () => {
    await l.call('labs:next', {});
    expect(await l.call('labs:status', {})).toMatchObject({ step: 9, steps: 9, stepId: 'on-kubernetes' });
    const whys = await predictFirst();
    expect(failing(await l.call('labs:check', {}))).toEqual(['no answer to "payments-db-peers" yet']);
    // The ordered rules let the gateway in beside payments: the flat allow-list names both.
    await l.call('labs:answer', { question: 'payments-db-peers', answer: '1' });
    expect(failing(await l.call('labs:check', {}))).toEqual(['"1" is not the answer to "payments-db-peers"']);
    await l.run('labs:solve', {});
    const report = await l.call('labs:check', {});
    expect(failing(report)).toEqual([]);
    await explain(whys);
    const summary = await l.call('labs:summary', { lab: LAB });
    expect(summary.state).toBe('completed');
    expect(summary.claims.every((c) => c.verdict === 'supported')).toBe(true);
  });

  it("the numbers support each claim's relation", () => {
    expect(value('gateway-db-enforced')).toBeLessThan(value('gateway-db-monitor'));
    expect(value('gateway-db-fixed')).toBeLessThan(value('gateway-db-broken'));
    expect(value('pci-isolation-hits')).toBeGreaterThan(0);
    // Kept connections hid the mistake; cut ones showed it.
    expect(value('kept-checkout-errors')).toBeLessThan(value('cut-checkout-errors'));
    expect(value('orders-to-payments-broken')).toBe(0);
    expect(value('orders-to-payments-hits')).toBeGreaterThan(0);
    console.log([...measured.values()].map((m) => `${m.id}=${m.value} (${m.source})`).join('\n'));
  });

  it('reset of a step restores its start; reset of the lab the monitor-mode policy', async () => {
    await l.run('labs:reset', { step: 4 });
    expect((await l.call('labs:status', {})).step).toBe(4);
    expect(await policyInForce()).toBe('microservices-broken-priority.yaml');
    await l.run('labs:reset', {});
    expect((await l.call('labs:status', {})).step).toBe(1);
    expect(await policyInForce()).toBe('microservices-monitor.yaml');
  });
});
