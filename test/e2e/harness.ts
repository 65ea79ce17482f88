/**
 * End-to-end harness: MicroLab's real services and browser transport in this process, and
 * Debian's Chromium driven by playwright-core. Everything runs in a project of its own, so
 * the tests never see or touch a user's resources.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Locator, Page } from 'playwright-core';
import type { MethodInput, MethodName, MethodOutput, TaskInfo } from '../../electron/api/contract';
import type { Handlers } from '../../electron/api/dispatch';
import { localApi } from '../../electron/api/local';
import type { WebServer } from '../../electron/api/ws-server';
import { startWebServer } from '../../electron/api/ws-server';
import type { EngineRegistry } from '../../electron/engine/registry';
import type { Services } from '../../electron/services';
import { createServices, reconcileOnStart } from '../../electron/services';

/** The project the e2e tests run in (MICROLAB_E2E_PROJECT sets another, e.g. beside a run of someone else's). */
export const PROJECT = process.env.MICROLAB_E2E_PROJECT ?? 'microlab-e2e';
export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const SCREENSHOTS = path.join(REPO_ROOT, 'test-results', 'e2e');
const STATIC_DIR = path.join(REPO_ROOT, 'dist', 'renderer');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Harness {
  services: Services;
  server: WebServer;
  browser: Browser;
  /** Calls the services exactly as a transport would (validated, enveloped). */
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodOutput<M>>;
  /** How many times the browser has called `method` so far. */
  calls(method: MethodName): number;
  /** A fresh page at 1280 wide, collecting the page's errors and console errors. */
  open(url: string): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

/** `registry` points the services at another engine (or at none). */
export async function startHarness(options: { registry?: EngineRegistry } = {}): Promise<Harness> {
  if (!existsSync(path.join(STATIC_DIR, 'index.html'))) {
    throw new Error('dist/renderer/index.html is missing: run `npm run build` before the e2e tests');
  }
  await mkdir(SCREENSHOTS, { recursive: true });
  const services = createServices({ project: PROJECT, ...options });
  // As the app does at start: remove probes an interrupted run left behind (this project's only).
  await reconcileOnStart(services);
  const { handlers, drain, counts } = tracked(services);
  const server = await startWebServer({
    handlers,
    events: services.events,
    staticDir: STATIC_DIR,
  });
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  } catch (err) {
    await server.close();
    throw err;
  }

  // The test's own calls go straight to the services (not counted as the browser's).
  const { call } = localApi(services);

  return {
    services,
    server,
    browser,
    call,
    calls: (method) => counts.get(method) ?? 0,
    async open(url) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
      page.on('console', (msg) => {
        if (msg.type() === 'error') errors.push(`console error: ${msg.text()}`);
      });
      await page.goto(url);
      return { page, errors };
    },
    async close() {
      await browser.close();
      // Calls the page made may still run (a doctor probe, a reload after a task): let them
      // finish, so no throwaway container outlives the test process.
      await drain();
      await server.close();
      // Whatever a failed test left of this project (never images, never other projects). What
      // cannot be removed fails the test that left it, not the next one to count resources.
      // (A harness pointed at no engine has nothing to remove.)
      const report = await call('resources:down', {}).catch(() => undefined);
      if (report?.failed.length)
        throw new Error(
          `the test left what \`down\` could not remove: ${report.failed
            .map((f) => `${f.resource.kind} ${f.resource.name} (${f.error})`)
            .join('; ')}`,
        );
    },
  };
}

/** The services' handlers, counting calls; `drain` waits for the calls in flight and for tasks. */
function tracked(services: Services): {
  handlers: Handlers;
  drain: () => Promise<void>;
  counts: Map<MethodName, number>;
} {
  const inFlight = new Set<Promise<unknown>>();
  const counts = new Map<MethodName, number>();
  const wrap =
    (method: MethodName, handler: (input: never, connection: never) => Promise<unknown>) =>
    (input: never, connection: never): Promise<unknown> => {
      counts.set(method, (counts.get(method) ?? 0) + 1);
      const call = handler(input, connection);
      const forget = () => inFlight.delete(call);
      inFlight.add(call);
      call.then(forget, forget);
      return call;
    };
  const handlers = Object.fromEntries(
    Object.entries(services.handlers).map(([method, handler]) => [
      method,
      wrap(method as MethodName, handler),
    ]),
  ) as unknown as Handlers;
  const drain = async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    const running = services.tasks.list().filter((t) => t.state === 'running');
    await Promise.allSettled(running.map((t) => services.tasks.wait(t.id)));
  };
  return { handlers, drain, counts };
}

/** Makes sure the lab images are there (a quick task when they are), so the screen can show them ready. */
export async function ensureImages(harness: Harness): Promise<void> {
  const started = await harness.call('images:prepare', {});
  const final: TaskInfo = await harness.services.tasks.wait(started.id);
  if (final.state !== 'succeeded') {
    throw new Error(
      `the e2e tests need the lab images, and preparing them ${final.state}: ${final.error?.message ?? ''}` +
        (final.error?.hint ? ` (hint: ${final.error.hint})` : ''),
    );
  }
}

export interface LabSession {
  harness: Harness;
  page: Page;
  errors: string[];
  close(): Promise<void>;
}

/**
 * The lab views' setup: a policy store of its own (the policy in force is kept on disk per
 * project), the images, no deployment, and a page open on the app and connected.
 */
export async function openLab(): Promise<LabSession> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'microlab-e2e-state-'));
  process.env.MICROLAB_STATE_DIR = stateDir;
  const harness = await startHarness();
  await ensureImages(harness);
  await harness.call('deploy:down', {});
  const { page, errors } = await harness.open(harness.server.url);
  // Connected and drawn (a busy machine can take a while).
  await page.getByRole('tab', { name: 'Deployment' }).waitFor({ timeout: 60_000 });
  return {
    harness,
    page,
    errors,
    close: async () => {
      await harness.call('deploy:down', {}).catch(() => undefined);
      await harness.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * Replaces the text of a code editor (CodeMirror) as a student would: select all, delete,
 * then the new text typed in. (Playwright's `fill` replaces a contenteditable's DOM through the
 * browser's editing commands, which write inline styles that the app's CSP refuses.)
 */
export async function setEditorText(textbox: Locator, text: string): Promise<void> {
  const page = textbox.page();
  const firstLine = text.split('\n')[0] ?? '';
  // A view that just opened may take the first click before the editor has focus: the
  // keys then go nowhere. Type again until the editor shows the text (at most three times).
  for (let attempt = 1; ; attempt++) {
    await textbox.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Backspace');
    await page.keyboard.insertText(text);
    const shown = await textbox.innerText();
    if (shown.startsWith(firstLine) || attempt === 3) return;
  }
}
