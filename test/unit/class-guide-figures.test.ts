/**
 * The instructor's guide with what was measured and what goes wrong: each measure's expected
 * range and each step's machine time from a figures file (the machine named; "not measured yet"
 * without one), a stale figures file refused with the id, tracks (a track's labs and time, an
 * unknown one refused with the known ones), each lab's known failure modes, and the printable
 * HTML page holding every lab's heading and tables.
 */
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseFigures, spread } from '../../electron/labs/figures';
import type { Lab } from '../../electron/labs/format';
import { instructorGuide } from '../../electron/labs/guide';
import { guideHtml } from '../../electron/labs/guide-html';
import { LabFileError, loadLabs, parseLab } from '../../electron/labs/loader';
import { chooseTrack, parseTracks } from '../../electron/labs/tracks';
import { deployments } from '../../electron/topology/declarations';

const LAB = `id: demo
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
    checks: [{ kind: deployment, deployment: monolith }]
    solve: [{ clear-policy: {} }]
    measure:
      - { id: before, label: Reach before, unit: workloads, from: { blast-radius: { attacker: jumpbox } } }
      - { id: after, label: Reach after, unit: workloads, from: { blast-radius: { attacker: jumpbox } } }
  - id: extra
    title: An extra
    text: More.
    optional: true
    checks: [{ kind: deployment, deployment: monolith }]
    solve: [{ clear-policy: {} }]
troubleshooting:
  - symptom: "The lab does not start: port 8480 in use"
    cause: Another deployment publishes it.
    fix: "\`microlab down\` there | or another port"
`;

const MACHINE = {
  cpu: 'Test CPU 3000',
  cpus: 2,
  memoryGiB: 7.8,
  arch: 'x64',
  os: 'linux 6.1.0',
  engine: 'Docker',
  engineVersion: '28.1.1',
};

function figures(
  measures: Record<string, number[]>,
  steps: Record<string, number[]> = { keys: [4.2, 5, 6.1] },
) {
  return JSON.stringify({
    machine: MACHINE,
    date: '2026-12-07T18:30:00.000Z',
    labs: { demo: { runs: 3, setupSeconds: [9.5, 10, 11], steps, measures } },
  });
}

const demo = parseLab(LAB, 'demo/lab.yaml', path.join(os.tmpdir(), 'demo'));

describe('figures in the guide', () => {
  it('prints each measure as expected on the named machine, and "not measured yet" where none', () => {
    const f = parseFigures(figures({ before: [5, 3, 4] }), [demo], 'figures.json');
    const lines = instructorGuide([demo], { figures: f }).split('\n');
    expect(lines).toContain(
      '| 1 | Reach before | `before` | expected on 2 × Test CPU 3000: median 4 workloads (range 3–5, 3 runs) |',
    );
    expect(lines).toContain('| 1 | Reach after | `after` | not measured yet |');
    expect(lines).toContain(
      'Figures measured by the labs benchmark on 2 × Test CPU 3000, 7.8 GiB, x64, linux 6.1.0, Docker 28.1.1, 2026-12-07.',
    );
    expect(lines).toContain(
      '| 1 | Find the keys | core | 1 | 0 | Reach before (workloads); Reach after (workloads) | median 5 s (range 4.2–6.1, 3 runs) |',
    );
    expect(lines).toContain('| 2 | An extra | optional | 1 | 0 |  | not measured yet |');
    expect(lines.join('\n')).toContain("the lab's set-up took median 10 s (range 9.5–11, 3 runs)");
  });

  it('says a single run as such, and every figure "not measured yet" without a file', () => {
    const f = parseFigures(figures({ before: [5] }, { keys: [3.4] }), [demo], 'figures.json');
    expect(instructorGuide([demo], { figures: f })).toContain(
      '| `before` | expected on 2 × Test CPU 3000: 5 workloads (1 run) |',
    );
    const none = instructorGuide([demo]);
    expect(none).toContain('| 1 | Reach before | `before` | not measured yet |');
    expect(none).toContain('labs/guides/figures.json is absent');
  });

  it('refuses a stale file with the id it names, and a malformed one with the field', () => {
    expect(() => parseFigures(figures({ gone: [1] }), [demo], 'figures.json')).toThrow(
      /figures\.json is stale .*labs\.demo\.measures\.gone: the lab measures no "gone"/,
    );
    expect(() => parseFigures(figures({}, { nope: [1] }), [demo], 'figures.json')).toThrow(
      /labs\.demo\.steps\.nope: the lab has no step "nope"/,
    );
    expect(() => parseFigures(figures({ before: [] }), [demo], 'f.json')).toThrow(
      /f\.json: labs\.demo\.measures\.before/,
    );
    expect(() => parseFigures('{', [demo], 'f.json')).toThrow(/f\.json: not JSON/);
    const other = JSON.parse(figures({})) as { labs: Record<string, unknown> };
    other.labs = { ghost: other.labs.demo };
    expect(() => parseFigures(JSON.stringify(other), [demo], 'f.json')).toThrow(
      /labs\.ghost: no lab has this id/,
    );
  });

  it('computes the median of an even count as the mean of the middle two', () => {
    expect(spread([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
  });
});

describe('failure modes, tracks and the printable page', () => {
  let labs: Lab[] = [];
  const guides = path.join(import.meta.dirname, '../../labs/guides');
  beforeAll(async () => {
    const labsDir = path.join(import.meta.dirname, '../../labs');
    const loaded = await loadLabs(guides, {
      workloads: {
        monolith: deployments.monolith.workloads.map((w) => w.name),
        microservices: deployments.microservices.workloads.map((w) => w.name),
      },
      policies: readdirSync(path.join(labsDir, 'policies')).filter((n) => n.endsWith('.yaml')),
    });
    expect(loaded.errors).toEqual([]);
    labs = loaded.labs.map((l) => l.lab);
  });

  it('prints each known failure mode with its cause and fix', () => {
    const lines = instructorGuide([demo]).split('\n');
    const at = lines.indexOf('### Known failure modes');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 4]).toBe(
      '| The lab does not start: port 8480 in use | Another deployment publishes it. | `microlab down` there \\| or another port |',
    );
  });

  it('refuses a failure mode without its fix, saying where', () => {
    const broken = LAB.replace('    fix: "`microlab down` there | or another port"\n', '');
    expect(() => parseLab(broken, 'demo/lab.yaml', os.tmpdir())).toThrow(LabFileError);
    try {
      parseLab(broken, 'demo/lab.yaml', os.tmpdir());
    } catch (err) {
      expect((err as LabFileError).issues.map((i) => i.path)).toEqual(['troubleshooting.0.fix']);
    }
  });

  it('gives every shipped lab a few failure modes', () => {
    for (const lab of labs) expect(lab.troubleshooting.length, lab.id).toBeGreaterThanOrEqual(3);
  });

  it('reads the committed figures file against the labs (no stale id)', () => {
    const f = parseFigures(readFileSync(path.join(guides, 'figures.json'), 'utf8'), labs, 'figures.json');
    expect(Object.keys(f.labs).length).toBeGreaterThan(0);
    const guide = instructorGuide(labs, { figures: f });
    for (const [id, lab] of Object.entries(f.labs))
      for (const m of Object.keys(lab.measures))
        expect(guide, `${id}.${m}`).toMatch(new RegExp(`\`${m}\` \\| expected on `));
  });

  it('restricts the guide to a track, with its time; refuses an unknown track naming the known ones', () => {
    const tracks = parseTracks(readFileSync(path.join(guides, 'tracks.yaml'), 'utf8'), labs, 'tracks.yaml');
    const workshop = chooseTrack(tracks, labs, 'workshop');
    const guide = instructorGuide(labs, { track: workshop });
    const core = labs.reduce((sum, l) => sum + (l.coreMinutes ?? l.minutes), 0);
    expect(guide).toContain(`${labs.length} labs, ${core} minutes (core steps only)`);
    expect(guide).not.toMatch(/\| optional \|/);
    for (const l of labs) {
      const c = l.coreMinutes ?? l.minutes;
      expect(guide.split('\n'), l.id).toContain(
        `\`${l.id}\` · ${l.quadrant.app} × ${l.quadrant.network} · ${c} minutes (core steps only${c < l.minutes ? `; ${l.minutes} with the optional ones` : ''})`,
      );
    }
    const quadrants = instructorGuide(labs, { track: chooseTrack(tracks, labs, 'quadrants') });
    expect(quadrants).toContain('## 1. ');
    expect(quadrants).not.toContain('`perimeter` ·');
    expect(quadrants).not.toContain('`capstone` ·');
    expect(chooseTrack(tracks, labs).labs).toEqual(labs.map((l) => l.id));
    expect(() => chooseTrack(tracks, labs, 'weekend')).toThrow(
      `no track "weekend"; known: all, ${tracks.map((t) => t.name).join(', ')}`,
    );
    expect(() => parseTracks('tracks:\n  - { name: x, title: X, labs: [nope] }\n', labs, 't.yaml')).toThrow(
      't.yaml:2:33: no lab has the id "nope"',
    );
    expect(() =>
      parseTracks('tracks:\n  - { name: all, title: X, labs: [capstone] }\n', labs, 't.yaml'),
    ).toThrow(/reserved/);
  });

  it("renders a standalone HTML page holding every lab's heading and its tables, with print CSS", () => {
    const markdown = instructorGuide(labs);
    const html = guideHtml(markdown);
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const lab of labs) {
      const heading = `<h2>${lab.order}. ${lab.title.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')}</h2>`;
      expect(html, lab.id).toContain(heading);
      const section = html.slice(html.indexOf(heading)).split('<h2>')[1]!;
      expect(section, lab.id).toMatch(/<h3>Steps<\/h3>\n<p>[^]*?<\/p>\n<table>/);
      expect(section, lab.id).toContain('<h3>Known failure modes</h3>\n<table>');
      expect(section.match(/<tr>/g)!.length, lab.id).toBeGreaterThan(lab.steps.length);
    }
    expect(html).toContain('break-before: page');
    expect(html).toMatch(/th, td \{ border: 1px solid/);
    expect(html).not.toContain('| --- |');
  });
});
