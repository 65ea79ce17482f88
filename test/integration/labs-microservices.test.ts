/**
 * The lab runner on the real engine, with lab 4 (microservices, segmented): start; the first
 * step's checks fail before the student acts; each step solved in turn passes its checks; the
 * measurements tell the story; a wrong policy makes a check fail naming the flow; reset of a
 * step and of the lab restore deployment, scale, versions and policy.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckReport, Measurement } from '../../electron/api/contract';
import { policyPath } from '../shop-policies';
import { cli } from './support';
import { lab, shopLabForFile } from './shop-support';

const project = 'microlab-it-labs-ms';
const { l, stateDir } = shopLabForFile(project, { labPort: 0 });
const LAB = 'microservices-segmented';

const failing = (r: CheckReport) => r.results.filter((x) => !x.passed).map((x) => x.message);

async function catalog() {
  const status = await l.call('deploy:status', {});
  const replicas = status.workloads.filter((w) => w.workload === 'catalog');
  return { count: replicas.length, versions: [...new Set(replicas.map((w) => w.version))] };
}

describe('lab 4 on the real engine', () => {
  const measured = new Map<string, Measurement>();

  it('starts: the shop is set up as the lab says, step 1 is current', async () => {
    await l.run('labs:start', { lab: LAB });
    const status = await l.call('labs:status', {});
    expect(status).toMatchObject({ lab: LAB, step: 1, steps: 7, stepId: 'baseline' });
    const deployment = await l.call('deploy:status', {});
    expect(deployment).toMatchObject({ deployment: 'microservices', healthy: true });
    const show = await l.call('policy:show', {});
    expect(path.basename(show.source?.file ?? '')).toBe('microservices-flat.yaml');
  });

  it('the first step fails before the student acts, and says why', async () => {
    const report = await l.call('labs:check', {});
    expect(report.passed).toBe(false);
    expect(failing(report)).toEqual(['no answer to "reaches-payments-db" yet']);
    await expect(l.call('labs:next', {})).rejects.toThrow(/has not passed yet/);
    const hint = await l.call('labs:hint', {});
    expect(hint).toMatchObject({ index: 1, of: 3 });
  });

  it('a wrong answer fails naming it; the right one passes and records the blast radius', async () => {
    await l.call('labs:answer', { question: 'reaches-payments-db', answer: 'no' });
    expect(failing(await l.call('labs:check', {}))).toEqual([
      '"no" is not the answer to "reaches-payments-db"',
    ]);
    await l.call('labs:answer', { question: 'reaches-payments-db', answer: ' Yes ' });
    const report = await l.call('labs:check', {});
    expect(failing(report)).toEqual([]);
    expect(report.outcome).toBe('passed');
    for (const m of report.measurements) measured.set(m.id, m);
    expect(measured.get('code-domains-before')?.value).toBe(5);
    expect(measured.get('jumpbox-domains-before')?.value).toBe(5);
    // The jumpbox's operator saved a login for every database of the shop.
    expect(measured.get('jumpbox-domains-before')?.source).toMatch(/shop@payments-db \(~\/\.pgpass\)/);
  });

  it('step 2: the skeleton in monitor mode would deny the calls between services, and they still go through', async () => {
    await l.call('labs:next', {});
    expect((await l.call('labs:check', {})).passed).toBe(false);
    await l.run('labs:solve', {});
    expect((await l.call('labs:status', {})).current?.outcome).toBe('solved');
  });

  it('step 3: the student writes the rules; a rule too broad fails the check, the intended matrix passes', async () => {
    await l.call('labs:next', {});
    const dir = (await l.call('labs:get', { lab: LAB })).workspace.dir;
    const skeleton = readFileSync(path.join(dir, 'segment-microservices.yaml'), 'utf8');
    expect(failing(await l.call('labs:check', {}))[0]).toMatch(/differs|expects/);
    // Too broad: every service may call every other (catalog -> payments too).
    const broad = skeleton.replace(
      '  - id: reporting-to-orders',
      [
        '  - id: services-to-services',
        '    from: { segment: shop }',
        '    to: { segment: shop }',
        '    ports: [8080]',
        '    action: allow',
        '    priority: 100',
        '  - id: reporting-to-orders',
      ].join('\n'),
    );
    await l.call('labs:save', { lab: LAB, file: 'segment-microservices.yaml', text: broad });
    // A flow the shop never makes, allowed by the broad rule where the intended policy denies it.
    expect(failing(await l.call('labs:check', {})).join('\n')).toMatch(
      /-> \w+:8080\/tcp allowed \(rule services-to-services\); the step expects denied/,
    );
    await l.run('labs:solve', {});
    expect(failing(await l.call('labs:check', {}))).toEqual([]);
  });

  it('step 4: predict first; enforced, catalog code reads one data domain and the jumpbox none', async () => {
    await l.call('labs:next', {});
    expect(failing(await l.call('labs:check', {}))[0]).toMatch(/predict first: "code-after"/);
    await expect(l.call('labs:action', { action: 'apply-enforce' })).rejects.toThrow(
      /prediction before you measure/,
    );
    await l.call('labs:answer', { question: 'code-after', answer: '1' });
    const honest = await l.call('labs:check', {});
    expect(failing(honest)).toEqual([
      'catalog is in monitor mode; the step expects enforce; payments-db is in monitor mode; the step expects enforce',
    ]);
    await l.run('labs:solve', {});
    const report = await l.call('labs:check', {});
    expect(failing(report)).toEqual([]);
    for (const m of report.measurements) measured.set(m.id, m);
    expect(measured.get('code-domains')).toMatchObject({
      value: 1,
      attacker: 'catalog-code',
      app: 'microservices',
    });
    expect(measured.get('code-domains')?.source).toMatch(
      /logged in to catalog-db as shop \(DATABASE_URL\): catalog$/,
    );
    expect(measured.get('jumpbox-domains')).toMatchObject({ value: 0, attacker: 'jumpbox' });
    await l.call('labs:answer', { question: 'why-one', answer: 'the seams' });
  });

  it('a wrong policy makes the check fail naming the flow', async () => {
    await l.call('policy:apply', { file: policyPath('microservices-flat.yaml') });
    const report = await l.call('labs:check', {});
    expect(report.passed).toBe(false);
    expect(failing(report).join('\n')).toMatch(/segment-microservices\.yaml/);
    const dir = (await l.call('labs:get', { lab: LAB })).workspace.dir;
    await l.call('policy:apply', { file: path.join(dir, 'segment-microservices.yaml') });
    expect(failing(await l.call('labs:check', {}))).toEqual([]);
  });

  it('steps 5 to 7: an L4 rule passes any request; scale and upgrade under the policy, zero errors', async () => {
    await l.call('labs:next', {});
    expect((await l.call('labs:check', {})).passed).toBe(false);
    // What the button runs, as the compromised reporting job: orders serves a call it was never meant for.
    const call = await cli(
      [
        'exec',
        'reporting',
        '--',
        'curl',
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-X',
        'POST',
        'http://orders:8080/orders/list',
        '-H',
        'content-type: application/json',
        '-d',
        '{"args":["00000000-0000-0000-0000-000000000000"]}',
      ],
      { MICROLAB_PROJECT: project, MICROLAB_STATE_DIR: stateDir },
    );
    expect({ code: call.code, out: call.stdout }).toEqual({ code: 0, out: '200' });
    await l.run('labs:solve', {});
    await l.call('labs:next', {});
    await l.call('labs:answer', { question: 'addresses', answer: '3' });
    expect((await l.call('labs:check', {})).passed).toBe(false);
    await l.run('labs:solve', {});
    expect(await catalog()).toEqual({ count: 3, versions: ['1'] });
    await l.call('labs:next', {});
    await l.call('labs:answer', { question: 'errors', answer: 'none' });
    expect((await l.call('labs:check', {})).passed).toBe(false);
    await l.run('labs:solve', {});
    const report = await l.call('labs:check', {});
    expect(failing(report)).toEqual([]);
    for (const m of report.measurements) measured.set(m.id, m);
    expect(measured.get('upgrade-errors')?.value).toBe(0);
    const summary = await l.call('labs:summary', { lab: LAB });
    expect(summary.state).toBe('completed');
    // The claim that compares with lab 2's number waits for lab 2 (not walked in this file).
    expect(summary.claims.map((c) => c.verdict)).toEqual([
      'supported',
      'not-measured',
      'supported',
      'supported',
    ]);
    expect(summary.claims[0]!.prediction).toMatchObject({ answer: '1' });
    const table = await l.call('labs:table', {});
    const cell = table.cells.find((c) => c.app === 'microservices' && c.network === 'segmented');
    expect(cell?.labs.find((x) => x.id === LAB)?.state).toBe('completed');
    expect(cell?.attackers).toMatchObject({
      jumpbox: { domains: 0, lab: LAB, step: 'enforce' },
      'catalog-code': { domains: 1, lab: LAB, step: 'enforce' },
    });
    // The baseline on the flat network fills the microservices × flat cell.
    const flat = table.cells.find((c) => c.app === 'microservices' && c.network === 'flat');
    expect(flat?.attackers).toMatchObject({
      jumpbox: { domains: 5, lab: LAB, step: 'baseline' },
      'catalog-code': { domains: 5, lab: LAB, step: 'baseline' },
    });
  });

  it('reset of a step restores its start (scale, version, policy); reset of the lab its setup', async () => {
    await l.run('labs:reset', { step: 6 });
    expect(await catalog()).toEqual({ count: 1, versions: ['1'] });
    expect((await l.call('labs:status', {})).step).toBe(6);
    expect(path.basename((await l.call('policy:show', {})).source?.file ?? '')).toBe(
      'segment-microservices.yaml',
    );
    await l.run('labs:reset', {});
    expect((await l.call('labs:status', {})).step).toBe(1);
    expect(path.basename((await l.call('policy:show', {})).source?.file ?? '')).toBe(
      'microservices-flat.yaml',
    );
    expect(await catalog()).toEqual({ count: 1, versions: ['1'] });
  });

  it('progress survives a new process (a fresh set of services) and exports as JSON and CSV', async () => {
    const other = lab(project);
    const progress = await other.call('labs:progress', {});
    const steps = progress.find((p) => p.lab === LAB)?.steps ?? {};
    expect(steps.baseline?.outcome).toBe('passed');
    expect(steps.enforce?.outcome).toBe('solved');
    const written = await other.call('labs:export', { file: path.join(stateDir, 'student.json') });
    const rows = await other.call('labs:class', { files: [written.json] });
    expect(rows.find((r) => r.step === 'enforce')?.measurements['code-domains']).toBe(1);
  });
});
