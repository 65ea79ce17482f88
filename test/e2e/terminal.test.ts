/**
 * The Terminal panel end to end: from the Deployment view, open a shell in the jumpbox, type
 * `id` and a command that reaches another workload and read the answers from xterm's buffer;
 * resize the window and see the shell's TTY follow; open the shop's firewall sidecar and see
 * the MicroLab table in `nft list ruleset`; paste 200,000 characters (they arrive whole, in
 * order) and one character past the limit (refused in the terminal); switch views and find the sessions kept; close a
 * tab and find no process of its session left in the container. Real services, real Docker,
 * real nftables, real Chromium.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PASTE_CHARS } from '../../electron/api/terminal-input';
import { execIn } from '../../electron/engine/exec';
import type { Harness, LabSession } from './harness';
import { openLab, SCREENSHOTS } from './harness';

const WAIT = { timeout: 60_000, interval: 200 };
const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The text of a session's terminal buffer (XtermView's `terminalText()`). */
function terminalText(page: Page, session: string): Promise<string> {
  return page.evaluate(
    (id) =>
      (
        document.querySelector(`[data-session="${id}"]`) as
          (HTMLElement & { terminalText?: () => string }) | null
      )?.terminalText?.() ?? '',
    session,
  );
}

/** The session id of the visible terminal. */
async function visibleSession(page: Page): Promise<string> {
  const box = page.locator('.terminal-panel:not([hidden]) [data-session]');
  await box.waitFor({ timeout: 30_000 });
  return (await box.getAttribute('data-session'))!;
}

/** Pastes `text` into a session's terminal, as the browser does on Ctrl-V. */
async function paste(page: Page, session: string, text: string): Promise<void> {
  await page.locator(`[data-session="${session}"]`).click();
  await page.evaluate(
    ({ id, text }) => {
      const input = document.querySelector(`[data-session="${id}"] textarea`)!;
      const clipboardData = new DataTransfer();
      clipboardData.setData('text/plain', text);
      input.dispatchEvent(new ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true }));
    },
    { id: session, text },
  );
}

async function type(page: Page, session: string, line: string): Promise<void> {
  await page.locator(`[data-session="${session}"]`).click();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

describe('the Terminal panel', () => {
  let harness: Harness;
  let lab: LabSession;
  let page: Page;
  let errors: string[];
  let containers: Record<string, string>;

  beforeAll(async () => {
    lab = await openLab();
    ({ harness, page, errors } = lab);
    const up = await harness.call('deploy:up', { deployment: 'monolith', port: 0 });
    const final = await harness.services.tasks.wait(up.id);
    if (final.state !== 'succeeded') throw new Error(`up: ${final.error?.message}`);
    await harness.call('policy:apply', {
      file: path.join(REPO_ROOT, 'labs', 'policies', 'monolith-segmented.yaml'),
    });
    const status = await harness.call('deploy:status', {});
    containers = Object.fromEntries(status.workloads.map((w) => [w.workload, w.container]));
  }, 300_000);

  afterAll(async () => {
    await lab?.close();
  });

  let jumpbox: string;

  it('opens a shell in a workload from the Deployment view and runs commands in it', async () => {
    await page.getByRole('tab', { name: 'Deployment', exact: true }).click();
    const open = page.getByRole('button', { name: 'Open a terminal in jumpbox', exact: true });
    await open.waitFor(WAIT);
    await open.click();

    const tab = page.getByRole('tab', { name: 'jumpbox', exact: true });
    await tab.waitFor();
    expect(await tab.getAttribute('aria-selected')).toBe('true');
    jumpbox = await visibleSession(page);
    await expect
      .poll(() => page.getByTestId('terminal-who').first().innerText(), WAIT)
      .toBe(`jumpbox · container ${containers.jumpbox} · user shop`);
    await expect.poll(() => terminalText(page, jumpbox), WAIT).toMatch(/shop@.*\$ ?$/);

    await type(page, jumpbox, 'id');
    await expect.poll(() => terminalText(page, jumpbox), WAIT).toContain('uid=1000(shop)');

    // Another workload answers: the operator's health check of the app.
    await type(page, jumpbox, 'curl -s -m 3 http://shop:8080/healthz; echo');
    await expect.poll(() => terminalText(page, jumpbox), WAIT).toContain('"status":"ok"');
  });

  it('follows the window’s size: the shell’s TTY gets the fitted rows and columns', async () => {
    const size = async () => {
      await type(page, jumpbox, 'clear; stty size');
      let text = '';
      await expect.poll(async () => (text = await terminalText(page, jumpbox)), WAIT).toMatch(/^\d+ \d+$/m);
      return /^(\d+) (\d+)$/m.exec(text)!.slice(1).map(Number);
    };
    const [rows1, cols1] = await size();
    await page.setViewportSize({ width: 900, height: 640 });
    // The dock refits and the debounced resize reaches the session.
    await expect
      .poll(async () => {
        const [rows2, cols2] = await size();
        return rows2! < rows1! && cols2! < cols1!;
      }, WAIT)
      .toBe(true);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('opens the firewall sidecar as root and lists the MicroLab table', async () => {
    await page.getByRole('button', { name: 'Open a terminal in the firewall of shop', exact: true }).click();
    await page.getByRole('tab', { name: 'shop · firewall', exact: true }).waitFor();
    const firewall = await visibleSession(page);
    await expect
      .poll(() => page.locator('.terminal-panel:not([hidden])').getByTestId('terminal-who').innerText(), WAIT)
      .toBe(`firewall of shop · container ${containers.shop}-fw · user root`);
    await expect.poll(() => terminalText(page, firewall), WAIT).toMatch(/root@.*# ?$/);
    await type(page, firewall, 'nft list ruleset | grep "^table"');
    await expect.poll(() => terminalText(page, firewall), WAIT).toContain('table inet microlab {');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'terminal-firewall.png') });
  });

  it('keeps the sessions while the user switches views', async () => {
    await page.getByRole('tab', { name: 'Firewall', exact: true }).click();
    await page.getByRole('tab', { name: 'Load', exact: true }).click();
    await page.getByRole('tab', { name: 'jumpbox', exact: true }).click();
    expect(await visibleSession(page)).toBe(jumpbox);
    expect(await terminalText(page, jumpbox)).toMatch(/^\d+ \d+$/m);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'terminal-jumpbox.png') });
  });

  it('types a paste longer than one call in order, and refuses one past the limit, saying so', async () => {
    // 200,000 letters, no two pieces alike: a lost, repeated or reordered piece changes the sum.
    let seed = 15;
    const text = Array.from({ length: 200_000 }, () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return String.fromCharCode(97 + (seed % 26));
    }).join('');
    const sum = createHash('sha256').update(text).digest('hex');
    // Not canonical: a line of the TTY holds at most 4095 characters; no echo: 200,000 less to draw.
    await type(
      page,
      jumpbox,
      `clear; stty -icanon -echo; echo PASTE-READY; head -c ${text.length} | sha256sum; stty sane`,
    );
    await expect.poll(() => terminalText(page, jumpbox), WAIT).toMatch(/^PASTE-READY$/m);
    await paste(page, jumpbox, text);
    await expect.poll(() => terminalText(page, jumpbox), WAIT).toContain(`${sum}  -`);

    await type(page, jumpbox, 'clear');
    await paste(page, jumpbox, 'x'.repeat(MAX_PASTE_CHARS + 1));
    await expect
      .poll(() => terminalText(page, jumpbox), WAIT)
      // The shell asked for bracketed paste: the count includes its 12 characters of brackets.
      .toMatch(
        new RegExp(
          `paste not sent: [0-9,]+ characters, more than the ${MAX_PASTE_CHARS.toLocaleString('en-US')} `,
        ),
      );
  });

  it('ends the session and its processes when its tab is closed', async () => {
    await type(page, jumpbox, 'sleep 4242');
    const { docker } = await harness.services.registry.get();
    // Processes of any terminal session in the jumpbox (the shop's firewall session is elsewhere).
    const marked = async () =>
      (
        await execIn(docker, containers.jumpbox!, [
          'sh',
          '-c',
          'grep -lsz MICROLAB_TERMINAL= /proc/[0-9]*/environ | wc -l',
        ])
      ).output.trim();
    await expect.poll(marked, WAIT).not.toBe('0');
    await page.getByRole('button', { name: 'Close jumpbox', exact: true }).click();
    await expect.poll(() => page.getByRole('tab', { name: 'jumpbox', exact: true }).count(), WAIT).toBe(0);
    await expect.poll(marked, WAIT).toBe('0');
    await expect.poll(() => harness.services.terminal.list().map((s) => s.workload), WAIT).toEqual(['shop']);
    expect(errors).toEqual([]);
  });
});
