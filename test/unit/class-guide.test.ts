/**
 * The instructor's guide is written from the lab files: each claim quoted with the article's
 * sentence and its relations, core and optional steps, minutes, predictions and why questions,
 * and an answer key that gives static answers and says which are each student's own.
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { instructorGuide } from '../../electron/labs/guide';
import { loadLabs, parseLab } from '../../electron/labs/loader';
import { deployments } from '../../electron/topology/declarations';

export const LAB = `id: demo
title: Demo
summary: A demo lab.
minutes: 20
coreMinutes: 12
order: 3
quadrant: { app: monolith, network: segmented }
setup: { deployment: monolith }
steps:
  - id: keys
    title: Find the keys
    text: Look.
    questions:
      - { id: password, text: What password does the jumpbox hold? }
      - { id: count, text: How many | workloads? }
      - { id: host, text: Which host? }
      - { id: free, text: In your words? }
    predict:
      - { id: guess, text: How many data domains?, choices: ['0', 'all 5'] }
    checks:
      - { kind: quiz, question: password, acceptFound: { workload: jumpbox, field: password } }
      - { kind: quiz, question: count, accept: ['3', three] }
    solve:
      - { answer: { question: host, answer: shop-db } }
    measure:
      - { id: before, label: Reach before, unit: workloads, from: { blast-radius: { attacker: jumpbox } } }
  - id: extra
    title: An extra
    text: More.
    optional: true
    explain: [{ id: why, text: "Why did it\\n  stay reachable?" }]
    checks: [{ kind: deployment, deployment: monolith }]
    solve: [{ clear-policy: {} }]
claims:
  - text: Segmentation shrinks the reach
    article: Microsegmentation can be used to logically isolate monolithic applications.
    measures: [before]
    holds: ["before < 4", "before >= 0"]
    prediction: { step: keys, id: guess }
`;

describe("the instructor's guide", () => {
  const guide = instructorGuide([parseLab(LAB, 'demo/lab.yaml', path.join(os.tmpdir(), 'demo'))]);
  const lines = guide.split('\n');

  it('says where the lab sits and its minutes, all and core', () => {
    expect(lines).toContain('## 3. Demo');
    expect(lines).toContain('`demo` · monolith × segmented · 20 minutes (12 for the core steps)');
  });

  it("quotes each claim with the article's sentence, its relations and the prediction asked", () => {
    expect(lines).toContain('1. Segmentation shrinks the reach');
    expect(lines).toContain(
      '   - The article: “Microsegmentation can be used to logically isolate monolithic applications.”',
    );
    expect(lines).toContain('   - Supported when: `before < 4` and `before >= 0`');
    expect(lines).toContain('   - Predicted in step 1: How many data domains?');
  });

  it('marks core and optional steps, and lists predictions and why questions', () => {
    expect(lines).toContain(
      '| 1 | Find the keys | core | 2 | 0 | Reach before (workloads) | not measured yet |',
    );
    expect(lines).toContain('| 2 | An extra | optional | 1 | 0 |  | not measured yet |');
    expect(lines).toContain('- Step 1: How many data domains? (0 / all 5)');
    expect(lines).toContain('- Step 2: Why did it stay reachable?');
  });

  it("gives static answers, and says which are each student's own", () => {
    expect(lines).toContain(
      '| 1 | What password does the jumpbox hold? | per student: the password found where `jumpbox` stands (each deployment has its own) |',
    );
    expect(lines).toContain('| 1 | How many \\| workloads? | `3` or `three` |');
    expect(lines).toContain('| 1 | Which host? | `shop-db` (what "Show me" answers) |');
    expect(lines).toContain('| 1 | In your words? | not checked (the student’s own words) |');
  });

  it('covers every shipped lab, each claim with its article', async () => {
    const labsDir = path.join(import.meta.dirname, '../../labs');
    const { labs } = await loadLabs(path.join(labsDir, 'guides'), {
      workloads: {
        monolith: deployments.monolith.workloads.map((w) => w.name),
        microservices: deployments.microservices.workloads.map((w) => w.name),
      },
      policies: readdirSync(path.join(labsDir, 'policies')).filter((n) => n.endsWith('.yaml')),
    });
    const all = instructorGuide(labs.map((l) => l.lab));
    for (const { lab } of labs) {
      expect(all).toContain(`## ${lab.order}. ${lab.title}`);
      for (const c of lab.claims)
        if (c.article) expect(all).toContain(`“${c.article.replace(/\s+/g, ' ').trim()}”`);
    }
  });
});
