import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Envelope } from '../../electron/api/contract';
import type { Harness } from './harness';
import { SCREENSHOTS, startHarness } from './harness';

/** Opens a raw WebSocket to /api: the HTTP status of a refusal, or the open socket. */
function openSocket(url: string): Promise<{ status: number; socket?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      socket.terminate();
    });
    socket.once('open', () => resolve({ status: 101, socket }));
    socket.once('error', (err) => {
      if (socket.readyState !== WebSocket.CLOSED) reject(err);
    });
  });
}

function callOnce(socket: WebSocket, method: string): Promise<Envelope<unknown>> {
  return new Promise((resolve, reject) => {
    socket.once('message', (data) => {
      const frame = JSON.parse(String(data)) as { id: number; reply: Envelope<unknown> };
      if (frame.id === 1) resolve(frame.reply);
      else reject(new Error(`unexpected frame ${String(data)}`));
    });
    socket.send(JSON.stringify({ id: 1, method, input: {} }));
  });
}

describe('the per-run token', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  it('refuses the page opened with a wrong token, with a clear alert and no stack', async () => {
    const { page } = await harness.open(`${harness.server.origin}/?token=not-the-token`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = await alert.innerText();
    expect(text).toContain('Cannot connect to MicroLab');
    expect(text).toContain('the token in the address is wrong or missing');
    expect(text).toContain('Open the address MicroLab printed when it started');
    expect(text).not.toMatch(/\n\s*at .+:\d+:\d+/);
    expect(await page.getByRole('status', { name: 'Engine connection' }).innerText()).toBe(
      'Not connected to MicroLab',
    );
    // Nothing of the connected screen is offered.
    expect(await page.getByRole('button').count()).toBe(0);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'wrong-token.png'), fullPage: true });
    await page.close();
  });

  it('answers a raw WebSocket with a wrong token with 401, and serves the right one', async () => {
    const api = `${harness.server.origin.replace(/^http/, 'ws')}/api`;
    expect((await openSocket(`${api}?token=not-the-token`)).status).toBe(401);
    expect((await openSocket(api)).status).toBe(401);

    const { status, socket } = await openSocket(`${api}?token=${encodeURIComponent(harness.server.token)}`);
    expect(status).toBe(101);
    try {
      const reply = await callOnce(socket!, 'images:list');
      expect(reply.ok).toBe(true);
      expect(Array.isArray((reply as { result: unknown }).result)).toBe(true);
    } finally {
      socket!.close();
    }
  });

  it('sends a page opened as localhost to the printed address, where it works', async () => {
    const local = harness.server.url.replace('//127.0.0.1:', '//localhost:');
    const { page, errors } = await harness.open(local);
    await page.waitForURL(`${harness.server.origin}/**`);
    expect(page.url()).toBe(harness.server.url);
    await expect
      .poll(() => page.getByRole('status', { name: 'Engine connection' }).innerText(), { timeout: 30_000 })
      .not.toBe('Not connected to MicroLab');
    expect(errors).toEqual([]);
    await page.close();
  });
});
