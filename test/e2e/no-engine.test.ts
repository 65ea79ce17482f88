import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineRegistry } from '../../electron/engine/registry';
import type { Harness } from './harness';
import { SCREENSHOTS, startHarness } from './harness';

const WAIT = { timeout: 30_000, interval: 100 };
// A real registry, pointed where no engine listens.
const NOWHERE = 'unix:///nonexistent/microlab-e2e/docker.sock';

describe('the first screen without an engine', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ registry: new EngineRegistry({ DOCKER_HOST: NOWHERE }) });
  });

  afterAll(async () => {
    await harness?.close();
  });

  const card = (page: Page, title: string) => page.getByRole('region', { name: title, exact: true });

  it('says the engine is not connected, why, and what to do', async () => {
    const { page } = await harness.open(harness.server.url);

    const engine = page.getByRole('status', { name: 'Engine connection' });
    await expect.poll(() => engine.innerText(), WAIT).toBe('Not connected to a Docker engine');

    // The doctor card says once what was tried, and how to fix it.
    const doctor = card(page, 'Engine and machine');
    const check = doctor.locator('li.check');
    await expect.poll(() => check.count(), WAIT).toBe(1);
    expect(await check.getByRole('heading').innerText()).toBe('Docker engine');
    expect(await check.getByRole('img').getAttribute('aria-label')).toBe('failed');
    expect(await check.innerText()).toContain(`Tried ${NOWHERE} (DOCKER_HOST): no socket there`);
    expect(await check.locator('.fix').innerText()).toMatch(/^How to fix: .*\S/);
    expect(await doctor.innerText()).toContain('Not ready: 1 check failed.');

    // The other cards point there instead of repeating it, and offer nothing that cannot work.
    const images = card(page, 'Images');
    await expect.poll(() => images.innerText(), WAIT).toContain('Waiting for the Docker engine');
    expect(await images.getByRole('button', { name: 'Prepare images' }).isDisabled()).toBe(true);
    const cleanup = card(page, 'Clean up');
    await expect.poll(() => cleanup.innerText(), WAIT).toContain('Waiting for the Docker engine');
    expect(
      await cleanup.getByRole('button', { name: 'Remove everything MicroLab started' }).isDisabled(),
    ).toBe(true);
    expect(await card(page, 'Next').innerText()).toContain('Start a Docker engine first');
    expect(await page.getByRole('alert').count()).toBe(0);

    // Checking again really asks again (and, with still no engine, says the same).
    const checkAgain = doctor.getByRole('button', { name: 'Check again' });
    const before = harness.calls('engine:doctor');
    await checkAgain.click();
    await expect.poll(() => harness.calls('engine:doctor'), WAIT).toBeGreaterThan(before);
    await expect.poll(() => checkAgain.isEnabled(), WAIT).toBe(true);
    expect(await check.getByRole('img').getAttribute('aria-label')).toBe('failed');

    await page.screenshot({ path: path.join(SCREENSHOTS, 'no-engine.png'), fullPage: true });
    await page.close();
  });
});
