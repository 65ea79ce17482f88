import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport, ImageInfo } from '../../electron/api/contract';
import { baseImageName } from '../../electron/engine/images';
import { labelsFor } from '../../electron/engine/labels';
import { formatBytes } from '../../renderer/src/format';
import type { Harness } from './harness';
import { ensureImages, PROJECT, SCREENSHOTS, startHarness } from './harness';

/** The screen waits on the engine; the doctor's nftables probe takes a moment. */
const WAIT = { timeout: 30_000, interval: 100 };
const STATUS_LABELS = { pass: 'passed', warn: 'warning', fail: 'failed', skip: 'skipped' } as const;

describe('the first screen', () => {
  let harness: Harness;
  let doctor: DoctorReport;
  let base: ImageInfo;

  beforeAll(async () => {
    harness = await startHarness();
    await ensureImages(harness);
    doctor = await harness.call('engine:doctor', {});
    const found = (await harness.call('images:list', {})).find((i) => i.name === baseImageName());
    if (!found?.present) throw new Error(`${baseImageName()} should be present after preparing it`);
    base = found;
  }, 300_000);

  afterAll(async () => {
    await harness?.close();
  });

  const card = (page: Page, title: string) => page.getByRole('region', { name: title, exact: true });
  /** The row of the base image of the engine's own architecture, by its exact name. */
  const baseRow = (page: Page) =>
    card(page, 'Images')
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: baseImageName(), exact: true }) });

  it('shows the engine connected, every doctor check, and the images ready', async () => {
    const { page, errors } = await harness.open(harness.server.url);
    const endpoint = doctor.endpoint;
    expect(endpoint, 'the doctor should find the engine on this machine').toBeDefined();

    const engine = page.getByRole('status', { name: 'Engine connection' });
    await expect
      .poll(() => engine.innerText(), WAIT)
      .toBe(`Connected to ${endpoint!.address} via ${endpoint!.source}`);

    // Every check the doctor makes is on screen, with its title, mark and summary.
    const doctorCard = card(page, 'Engine and machine');
    const checks = doctorCard.locator('li.check');
    await expect.poll(() => checks.count(), WAIT).toBe(doctor.checks.length);
    for (const check of doctor.checks) {
      const item = checks.filter({ has: page.getByRole('heading', { name: check.title, exact: true }) });
      expect(await item.count(), check.title).toBe(1);
      expect(await item.getByRole('img').getAttribute('aria-label'), check.title).toBe(
        STATUS_LABELS[check.status],
      );
    }
    expect(await doctorCard.innerText()).toContain('Ready for the labs');
    const engineCheck = checks.filter({ has: page.getByRole('heading', { name: 'Docker engine' }) });
    expect(await engineCheck.locator('table.details').innerText()).toContain(endpoint!.address);
    expect(await doctorCard.getByRole('button', { name: 'Check again' }).isEnabled()).toBe(true);
    // The firewall's passing features are one row on screen; each one is in the report.
    const firewall = doctor.checks.find((c) => c.id === 'nftables')!;
    const working = Object.values(firewall.details ?? {}).filter((v) => v === 'works').length;
    expect(working, 'the doctor names each nftables feature it tried').toBeGreaterThan(10);
    const firewallItem = checks.filter({
      has: page.getByRole('heading', { name: firewall.title, exact: true }),
    });
    expect(await firewallItem.locator('table.details').innerText()).toContain(`all ${working} tried work`);
    expect(await firewallItem.locator('table.details tr').count()).toBeLessThan(working);

    // The base image: present, with its size as the engine reports it.
    // (The other architecture's base, `…-arm64`, may be listed too: its row is its own.)
    const row = baseRow(page);
    await expect.poll(() => row.count(), WAIT).toBe(1);
    const cells = await row.getByRole('cell').allInnerTexts();
    expect(cells).toEqual([
      baseImageName(),
      'base',
      base.architecture!,
      formatBytes(base.sizeBytes!),
      'present',
    ]);
    // Built for the engine's own architecture, as the doctor found it.
    const archCheck = doctor.checks.find((c) => c.id === 'architecture');
    expect(base.architecture).toBe(archCheck?.details?.engine);
    expect(base.sizeBytes).toBeGreaterThan(1024 * 1024);

    // What next: the guided labs, or the Deployment view.
    const next = await card(page, 'Next').innerText();
    expect(next).toContain('This machine is ready');
    expect(next).toContain('Deployment view');
    expect(next).toContain('Open the guided labs');

    // Clean up: nothing of this project runs, so the button is off.
    const cleanup = card(page, 'Clean up');
    await expect.poll(() => cleanup.innerText(), WAIT).toContain('0 resources');
    expect(
      await cleanup.getByRole('button', { name: 'Remove everything MicroLab started' }).isDisabled(),
    ).toBe(true);

    await page.screenshot({ path: path.join(SCREENSHOTS, 'first-screen.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('prepares images with a real task and shows its result', async () => {
    const { page, errors } = await harness.open(harness.server.url);
    const images = card(page, 'Images');
    const prepare = images.getByRole('button', { name: 'Prepare images' });
    await prepare.waitFor();
    const before = harness.services.tasks.list().length;

    await prepare.click();
    const result = images.getByRole('status').filter({ hasText: 'Prepare images: done' });
    await result.waitFor({ timeout: 30_000 });
    expect(await result.innerText()).toContain(`${baseImageName()} is already present`);

    // The screen followed a real task of the services, not a guess of its own.
    const tasks = harness.services.tasks.list();
    expect(tasks.length).toBe(before + 1);
    const task = tasks.at(-1)!;
    expect(task).toMatchObject({ kind: 'images:prepare', state: 'succeeded' });
    expect(task.result).toContain(`${baseImageName()} is already present`);

    // After the task the images are loaded again and the button is back.
    await expect.poll(() => prepare.isEnabled(), WAIT).toBe(true);
    expect(await baseRow(page).innerText()).toContain('present');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('counts what MicroLab started and removes it, and only it', async () => {
    const { docker } = await harness.services.registry.get();
    const suffix = Math.random().toString(36).slice(2, 8);
    const network = await docker.createNetwork({
      Name: `${PROJECT}-cleanup-${suffix}`,
      Internal: true,
      Labels: labelsFor(PROJECT, 'e2e-cleanup'),
    });
    const volume = `${PROJECT}-cleanup-${suffix}`;
    await docker.createVolume({ Name: volume, Labels: labelsFor(PROJECT, 'e2e-cleanup') });
    // Not MicroLab's: no labels. It must survive the clean up.
    const bystander = `${PROJECT}-bystander-${suffix}`;
    await docker.createVolume({ Name: bystander });
    try {
      const { page, errors } = await harness.open(harness.server.url);
      const cleanup = card(page, 'Clean up');
      // The doctor's probe is a throwaway container of this project too: let it come and go.
      const checkAgain = card(page, 'Engine and machine').getByRole('button', { name: 'Check again' });
      await expect.poll(() => checkAgain.isEnabled(), WAIT).toBe(true);
      await expect.poll(() => cleanup.innerText(), WAIT).toContain('2 resources started by MicroLab');
      expect(await cleanup.innerText()).toContain('1 network, 1 volume');
      const remove = cleanup.getByRole('button', { name: 'Remove everything MicroLab started' });
      expect(await remove.isEnabled()).toBe(true);

      await remove.click();
      const result = cleanup.getByRole('status').filter({ hasText: 'Removed 2 resources.' });
      await result.waitFor({ timeout: 30_000 });
      await expect.poll(() => cleanup.innerText(), WAIT).toContain('0 resources');
      expect(await remove.isDisabled()).toBe(true);

      const networks = await docker.listNetworks({ filters: { id: [network.id] } });
      expect(networks).toEqual([]);
      const volumes = (await docker.listVolumes()).Volumes.map((v) => v.Name);
      expect(volumes).not.toContain(volume);
      expect(volumes).toContain(bystander);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await docker.getVolume(bystander).remove();
    }
  });
});
