import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { labJsonSchema } from '../../electron/labs/format';
import { LabFileError, loadLabs, parseLab } from '../../electron/labs/loader';
import type { LabReferences } from '../../electron/labs/loader';
import { deployments } from '../../electron/topology/declarations';

const LABS = path.join(import.meta.dirname, '../../labs');
const GUIDES = path.join(LABS, 'guides');
const refs: LabReferences = {
  workloads: {
    monolith: deployments.monolith.workloads.map((w) => w.name),
    microservices: deployments.microservices.workloads.map((w) => w.name),
  },
  policies: readdirSync(path.join(LABS, 'policies')).filter((n) => n.endsWith('.yaml')),
};

const GOOD = `id: demo
title: Demo
summary: A demo lab.
minutes: 5
order: 9
quadrant: { app: microservices, network: segmented }
setup: { deployment: microservices, policy: microservices-flat.yaml }
steps:
  - id: one
    title: One
    text: Do it.
    checks:
      - kind: flow
        src: catalog
        dst: payments-db
        port: 5432
        observed: blocked
    solve:
      - apply-policy: { policy: microservices-segmented.yaml }
`;

function issuesOf(text: string): { line: number; column: number; message: string }[] {
  try {
    parseLab(text, 'demo/lab.yaml', path.join(os.tmpdir(), 'demo'), refs);
  } catch (err) {
    if (err instanceof LabFileError) return err.issues;
    throw err;
  }
  return [];
}

describe('lab files', () => {
  it('every shipped lab validates, with its references', async () => {
    const { labs, errors } = await loadLabs(GUIDES, refs);
    expect(errors).toEqual([]);
    expect(labs.length).toBeGreaterThan(0);
    for (const { lab } of labs) {
      expect(lab.steps.length).toBeGreaterThan(0);
      for (const step of lab.steps) {
        expect(step.checks.length).toBeGreaterThan(0);
        expect(step.hints.length).toBeGreaterThan(0);
      }
    }
  });

  it('the published JSON Schema is current (regenerate with `node scripts/json-schemas.mjs`)', () => {
    expect(readFileSync(path.join(GUIDES, 'lab.schema.json'), 'utf8')).toBe(
      `${JSON.stringify(labJsonSchema(), null, 2)}\n`,
    );
  });

  it('a good file parses', () => {
    expect(issuesOf(GOOD)).toEqual([]);
  });

  it('reports bad YAML at its line and column', () => {
    const issues = issuesOf(GOOD.replace('minutes: 5', 'minutes: [5'));
    expect(issues[0]?.message).toMatch(/bad YAML/);
    expect(issues[0]?.line).toBeGreaterThanOrEqual(4);
  });

  it('reports an unknown check kind at the check', () => {
    const issues = issuesOf(GOOD.replace('kind: flow', 'kind: teleport'));
    expect(issues).toEqual([
      expect.objectContaining({
        line: 13,
        column: 15,
        message: expect.stringMatching(/unknown check kind "teleport"/),
      }),
    ]);
  });

  it('reports a step with no check', () => {
    const text = GOOD.replace(/ {4}checks:\n(.*\n){5}/, '    checks: []\n');
    expect(issuesOf(text)).toEqual([
      expect.objectContaining({ line: 12, column: 13, message: 'a step needs at least one check' }),
    ]);
  });

  it('reports a workload and a policy that do not exist, at their positions', () => {
    const issues = issuesOf(
      GOOD.replace('dst: payments-db', 'dst: payment-db').replace(
        'microservices-segmented.yaml',
        'nope.yaml',
      ),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        line: 15,
        column: 14,
        message: expect.stringMatching(/no workload "payment-db"/),
      }),
      expect.objectContaining({
        line: 19,
        column: 33,
        message: 'no policy "nope.yaml" in labs/policies or in the lab\'s folder',
      }),
    ]);
  });

  it('a step that starts the other deployment with `up` may name its workloads; the steps before it may not', () => {
    const switching = GOOD.replace(
      'setup: { deployment: microservices, policy: microservices-flat.yaml }',
      'setup: { deployment: monolith }',
    ).replace(
      '      - apply-policy: { policy: microservices-segmented.yaml }\n',
      '      - up: { deployment: microservices }\n      - scale: { service: catalog, replicas: 3 }\n',
    );
    expect(issuesOf(switching)).toEqual([]);
    const tooEarly = switching.replace(
      'steps:\n',
      'steps:\n  - id: zero\n    title: Zero\n    text: Before.\n    checks: [{ kind: replicas, workload: catalog }]\n    solve: [{ scale: { service: shop, replicas: 3 } }]\n',
    );
    expect(issuesOf(tooEarly)).toEqual([
      expect.objectContaining({
        line: 12,
        column: 42,
        message: expect.stringMatching(/^no workload "catalog" in the monolith \(it has shop, /),
      }),
    ]);
  });

  it('reports an unknown field and an action with two kinds', () => {
    const issues = issuesOf(
      GOOD.replace('title: One', 'title: One\n    colour: red').replace(
        '- apply-policy: { policy: microservices-segmented.yaml }',
        '- { clear-policy: {}, scale: { service: catalog, replicas: 2 } }',
      ),
    );
    expect(issues.map((i) => i.message)).toEqual([
      'unknown field "colour"',
      expect.stringMatching(/an action has exactly one of .* \(found clear-policy, scale\)/),
    ]);
  });

  it('a broken lab is reported while the others still load', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'microlab-guides-'));
    for (const [id, text] of [
      ['demo', GOOD],
      ['broken', GOOD.replace('id: demo', 'id: broken').replace('kind: flow', 'kind: nope')],
    ] as const) {
      mkdirSync(path.join(dir, id));
      writeFileSync(path.join(dir, id, 'lab.yaml'), text);
    }
    const { labs, errors } = await loadLabs(dir, refs);
    expect(labs.map((l) => l.lab.id)).toEqual(['demo']);
    expect(errors).toEqual([
      {
        id: 'broken',
        file: path.join(dir, 'broken', 'lab.yaml'),
        issues: [expect.objectContaining({ line: 13, column: 15 })],
      },
    ]);
  });
});
