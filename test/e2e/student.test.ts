/**
 * The first screen's "You" card (issue 17): a student saves their name and id in the page;
 * they are stored with the progress (student:get reads them back, a reload shows them) and the
 * progress export carries them. No engine is needed: nothing here touches one.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineRegistry } from '../../electron/engine/registry';
import type { Harness } from './harness';
import { SCREENSHOTS, startHarness } from './harness';

const WAIT = { timeout: 30_000, interval: 100 };

describe('the student names themselves on the first screen', () => {
  let harness: Harness;
  let stateDir: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'microlab-e2e-student-'));
    process.env.MICROLAB_STATE_DIR = stateDir;
    delete process.env.MICROLAB_STUDENT;
    delete process.env.MICROLAB_STUDENT_ID;
    harness = await startHarness({
      registry: new EngineRegistry({ DOCKER_HOST: 'unix:///nonexistent/microlab-e2e/docker.sock' }),
    });
  });

  afterAll(async () => {
    await harness?.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('saves the name and id, shows them after a reload, and the export carries them', async () => {
    const { page } = await harness.open(harness.server.url);
    const card = page.getByRole('region', { name: 'You', exact: true });
    await expect.poll(() => card.innerText(), WAIT).toContain('Tell your instructor who you are');
    const save = card.getByRole('button', { name: 'Save' });
    expect(await save.isDisabled()).toBe(true);

    await card.getByLabel('Your name').fill('Ana Lima');
    await card.getByLabel('Student id (optional)').fill('s1234');
    await save.click();
    await expect
      .poll(() => card.innerText(), WAIT)
      .toContain('Your progress and its exports carry the name Ana Lima (id s1234)');
    expect(await harness.call('student:get', {})).toMatchObject({
      student: { name: 'Ana Lima', id: 's1234' },
      source: 'stored',
    });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'student.png'), fullPage: true });

    await page.reload();
    const again = page.getByRole('region', { name: 'You', exact: true });
    await expect.poll(() => again.getByLabel('Your name').inputValue(), WAIT).toBe('Ana Lima');

    const file = path.join(stateDir, 'export.json');
    await harness.call('labs:export', { file });
    expect(JSON.parse(await readFile(file, 'utf8')).student).toEqual({ name: 'Ana Lima', id: 's1234' });
    await page.close();
  });
});
