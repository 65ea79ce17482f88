/**
 * A workspace action (a skeleton copied in, a solution put in place) never loses what the
 * student wrote: their differing file is kept beside it under a dated name, and an unchanged
 * copy is simply replaced.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActionContext } from '../../electron/labs/actions';
import { runEntries } from '../../electron/labs/actions';
import type { LabClient } from '../../electron/labs/client';

let dir: string;
let ctx: ActionContext;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-workspace-'));
  await writeFile(path.join(dir, 'skeleton.yaml'), 'name: skeleton\n');
  ctx = {
    client: {} as LabClient, // a workspace entry calls no service
    labDir: dir,
    workspaceDir: path.join(dir, 'workspace'),
    resolvePolicy: (ref) => path.join(dir, ref),
    recordAnswer: async () => undefined,
  };
});

afterEach(() => rm(dir, { recursive: true, force: true }));

describe('workspace actions', () => {
  it('copies the file in; again with nothing changed, it just replaces it', async () => {
    expect(await runEntries([{ workspace: { file: 'skeleton.yaml' } }], ctx)).toBe(
      'copy skeleton.yaml into the workspace',
    );
    await runEntries([{ workspace: { file: 'skeleton.yaml' } }], ctx);
    expect(await readdir(ctx.workspaceDir)).toEqual(['skeleton.yaml']);
  });

  it("keeps the student's own version under a dated name, and says so", async () => {
    await runEntries([{ workspace: { file: 'skeleton.yaml', as: 'mine.yaml' } }], ctx);
    await writeFile(path.join(ctx.workspaceDir, 'mine.yaml'), 'name: my-work\n');
    const line = await runEntries([{ workspace: { file: 'skeleton.yaml', as: 'mine.yaml' } }], ctx);
    const files = (await readdir(ctx.workspaceDir)).sort();
    expect(files).toHaveLength(2);
    const kept = files.find((f) => f !== 'mine.yaml')!;
    expect(kept).toMatch(/^mine\.saved-\d{8}-\d{6}\.yaml$/);
    expect(line).toBe(
      `copy skeleton.yaml into the workspace as mine.yaml (your own version is kept as ${kept})`,
    );
    expect(await readFile(path.join(ctx.workspaceDir, kept), 'utf8')).toBe('name: my-work\n');
    expect(await readFile(path.join(ctx.workspaceDir, 'mine.yaml'), 'utf8')).toBe('name: skeleton\n');
  });

  it("points a relative $schema at the lab's schema from the workspace (the editor finds it there)", async () => {
    const lab = path.join(dir, 'guides', 'lab-a');
    await mkdir(lab, { recursive: true });
    const inLab: ActionContext = { ...ctx, labDir: lab, resolvePolicy: (ref) => path.join(lab, ref) };
    await writeFile(path.join(dir, 'guides', 'policy.schema.json'), '{}');
    await writeFile(
      path.join(lab, 'skeleton.yaml'),
      '# a comment stays\n$schema: ../policy.schema.json\nname: skeleton\n',
    );
    await runEntries([{ workspace: { file: 'skeleton.yaml', as: 'mine.yaml' } }], inLab);
    const text = await readFile(path.join(ctx.workspaceDir, 'mine.yaml'), 'utf8');
    const [, ref] = /^\$schema: (\S+)$/m.exec(text)!;
    expect(ref).toMatch(/^file:\/\//);
    expect(existsSync(fileURLToPath(ref!))).toBe(true);
    expect(text.replace(ref!, 'X')).toBe('# a comment stays\n$schema: X\nname: skeleton\n');
    // Unchanged since: taking it again keeps nothing aside.
    await runEntries([{ workspace: { file: 'skeleton.yaml', as: 'mine.yaml' } }], inLab);
    expect(await readdir(ctx.workspaceDir)).toEqual(['mine.yaml']);
  });
});
