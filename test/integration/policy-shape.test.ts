/**
 * A policy belongs to a shape (issue 7, part 4), on the real engine and through the CLI, as a
 * student would type it: `up microservices; policy apply microservices-segmented.yaml; down;
 * up monolith`. The monolith comes up healthy and `up` says the microservices' policy was set
 * aside; a policy applied to the monolith itself stays in force across `down` and `up`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, repoRoot } from './support';
import { lab, prepare } from './shop-support';

const project = 'microlab-it-policy-shape';
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'microlab-it-policy-shape-'));
const env = { MICROLAB_PROJECT: project, MICROLAB_STATE_DIR: stateDir };
const policy = (name: string) => path.join(repoRoot, 'labs', 'policies', `${name}.yaml`);

async function ok(args: string[]): Promise<string> {
  const result = await cli(args, env);
  expect(result.stderr, `microlab ${args.join(' ')}`).toBe('');
  expect(result.code, `microlab ${args.join(' ')}: ${result.stdout}`).toBe(0);
  return result.stdout;
}

beforeAll(async () => {
  await prepare(lab(project));
  await cli(['down'], env);
});

afterAll(async () => {
  await cli(['down'], env);
  rmSync(stateDir, { recursive: true, force: true });
});

describe('a policy belongs to a shape', () => {
  it('up monolith after the microservices policy and down: the monolith comes up, the policy is set aside', async () => {
    await ok(['up', 'microservices', '--port', '0']);
    await ok(['policy', 'apply', policy('microservices-segmented')]);
    await ok(['down']);

    const up = await ok(['up', 'monolith', '--port', '0']);
    expect(up).toMatch(/monolith is up: \d+ containers healthy/);
    expect(up).toContain(
      'the policy microservices-segmented.yaml was applied to the microservices and is set aside',
    );
    const show = JSON.parse(await ok(['policy', 'show', '--json'])) as { source?: unknown };
    expect(show.source).toBeUndefined();
    const status = JSON.parse(await ok(['status', '--json'])) as {
      deployment: { deployment: string; healthy: boolean };
    };
    expect(status.deployment).toMatchObject({ deployment: 'monolith', healthy: true });
  });

  it('a policy applied to the monolith stays in force across down and up of the same shape', async () => {
    await ok(['policy', 'apply', policy('monolith-segmented')]);
    await ok(['down']);
    const up = await ok(['up', 'monolith', '--port', '0']);
    expect(up).not.toContain('set aside');
    const show = JSON.parse(await ok(['policy', 'show', '--json'])) as {
      source?: { deployment?: string };
      workloads: { name: string; mode: string }[];
    };
    expect(show.source?.deployment).toBe('monolith');
    const mode = (name: string) => show.workloads.find((w) => w.name === name)?.mode;
    expect([mode('shop'), mode('shop-db')]).toEqual(['enforce', 'enforce']);
  });

  it('a MicroLab with another state directory (another user, sudo) learns the policy in force from the agent, and up of the other shape sets it aside', async () => {
    const otherDir = mkdtempSync(path.join(os.tmpdir(), 'microlab-it-policy-shape-other-'));
    const other = { MICROLAB_PROJECT: project, MICROLAB_STATE_DIR: otherDir };
    try {
      // Its own directory records nothing; the agent holds monolith-segmented (the test above).
      const show = await cli(['policy', 'show', '--json'], other);
      const shown = JSON.parse(show.stdout) as { source?: unknown; policy?: { name?: string } };
      expect(shown.source).toBeUndefined();
      expect(shown.policy?.name).toBe('monolith-segmented');
      expect((await cli(['policy', 'show'], other)).stdout).toMatch(
        /^Policy monolith-segmented, held by the firewall agent/,
      );
      // Its probe expects what is enforced (it expected "every flow allowed" before).
      const probe = await cli(['probe'], other);
      expect(probe.stdout).toMatch(/observed equals expected/);
      expect(probe.code).toBe(0);

      const up = await cli(['up', 'microservices', '--port', '0'], other);
      expect(up.code, up.stderr).toBe(0);
      expect(up.stdout).toMatch(/microservices is up: \d+ containers healthy/);
      expect(up.stdout).toContain(
        "the policy monolith-segmented (held by the firewall agent; this MicroLab's state directory has no record of it) was applied to the monolith and is set aside",
      );
      const after = JSON.parse((await cli(['policy', 'show', '--json'], other)).stdout) as {
        policy?: unknown;
      };
      expect(after.policy).toBeUndefined();
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
  });
});
