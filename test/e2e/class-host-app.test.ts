/**
 * Hosting a live class from the app, end to end in Chromium (issue 17): the instructor's app
 * (its own services, browser transport and state folder) starts a class on `lo` from the first
 * screen's "Host a class" card, which shows the join code and its QR code; a student (a
 * ClassClient, as `microlab class join` runs it) joins with the code the card shows; the card
 * counts the joiner waiting; "Open the dashboard" opens the dashboard's address, whose page
 * lists the student, who is approved there; End the class ends it. Screenshots of the card and
 * the dashboard are kept in test-results/e2e/. Needs `npm run build`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassClient } from '../../electron/class/client';
import { decodeJoinCode } from '../../electron/class/protocol';
import { openLab, SCREENSHOTS, type LabSession } from './harness';

const WAIT = { timeout: 60_000, interval: 250 };

describe('hosting a class from the app', () => {
  let app: LabSession;
  let page: Page;
  let studentDir: string;
  let instructor: BrowserContext;
  const errors: string[] = [];

  beforeAll(async () => {
    app = await openLab();
    // The instructor's window, in a browser that accepts the class's own certificate (the
    // dashboard's link opens in it), connected to the same services as the app's.
    instructor = await app.harness.browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 1000 },
    });
    page = await instructor.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(app.harness.server.url);
    await page.getByRole('tab', { name: 'Deployment' }).waitFor({ timeout: 60_000 });
    studentDir = await mkdtemp(path.join(os.tmpdir(), 'mlc-e2e-student-'));
  }, 300_000);

  afterAll(async () => {
    await app?.harness.services.klass.stop();
    await instructor?.close();
    await app?.close();
    if (studentDir) await rm(studentDir, { recursive: true, force: true });
  });

  it('starts a class on lo, shows the code and the QR code, and its dashboard lists the student who joined', async () => {
    await page.getByRole('tab', { name: 'First screen' }).click({ timeout: 60_000 });
    const card = page.getByRole('region', { name: 'Host a class' });
    // Nothing is started before the instructor picks an interface.
    const start = card.getByRole('button', { name: 'Start the class' });
    await start.waitFor({ timeout: 60_000 });
    await card.getByLabel('Interface').selectOption('lo');
    await card.getByLabel('Port').fill('0');
    await start.click();

    const code = card.getByLabel('Join code');
    await expect.poll(() => code.count(), WAIT).toBe(1);
    const status = await app.harness.call('class:host-status', {});
    if (!status.running) throw new Error('the card started no class');
    expect(status.interface).toBe('lo');
    expect(await code.textContent()).toBe(status.joinCode);
    expect(await card.getByText(`Class started on lo (127.0.0.1), port ${status.port}`).count()).toBe(1);
    expect(await card.getByText(status.fingerprint).count()).toBe(1);
    // The QR code is drawn (an SVG image that loaded), not a broken image.
    const qr = card.getByRole('img', { name: 'The join code as a QR code' });
    await expect
      .poll(() => qr.evaluate((img: HTMLImageElement) => img.naturalWidth), WAIT)
      .toBeGreaterThan(0);

    // Copy puts the code on the clipboard.
    await instructor.grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: new URL(app.harness.server.url).origin,
    });
    await card.getByRole('button', { name: 'Copy' }).click();
    await expect.poll(() => card.getByRole('button', { name: 'Copied' }).count(), WAIT).toBe(1);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(status.joinCode);

    // A student joins with the code the card shows; the card counts the joiner waiting.
    const student = new ClassClient({
      dir: path.join(studentDir, 'class'),
      progressFile: path.join(studentDir, 'progress.json'),
      student: { name: 'Ivo Petrov' },
      intervalMs: 200,
    });
    await student.load(decodeJoinCode((await code.textContent()) ?? ''));
    const joined = student.join();
    await expect.poll(() => card.getByText('1 waiting for you to let them in').count(), WAIT).toBe(1);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'class-host-app.png'), fullPage: true });

    // "Open the dashboard" opens the dashboard's address (instructor token in its fragment).
    const link = card.getByRole('link', { name: 'Open the dashboard' });
    expect(await link.getAttribute('href')).toBe(status.dashboardUrl);
    const [board] = await Promise.all([instructor.waitForEvent('page'), link.click()]);
    const boardErrors: string[] = [];
    board.on('pageerror', (e) => boardErrors.push(e.message));
    await expect.poll(() => board.url(), WAIT).toBe(status.dashboardUrl);
    const row = board.locator('tr', { hasText: 'Ivo Petrov' });
    await row.getByRole('button', { name: 'Approve' }).click({ timeout: 60_000 });
    await joined;
    expect(student.status()).toMatchObject({ phase: 'joined', student: 's1' });
    await expect.poll(() => card.getByText(/: 1 student\.$/).count(), WAIT).toBe(1);
    await board.screenshot({ path: path.join(SCREENSHOTS, 'class-host-app-dashboard.png'), fullPage: true });

    // End the class: the card offers to start one again, and the student is told.
    await card.getByRole('button', { name: 'End the class' }).click();
    await expect.poll(() => card.getByRole('button', { name: 'Start the class' }).count(), WAIT).toBe(1);
    expect(await app.harness.call('class:host-status', {})).toEqual({ running: false });
    expect(boardErrors).toEqual([]);
    expect(errors).toEqual([]);
  }, 600_000);
});
