import { describe, expect, it } from 'vitest';
import type { Handlers } from '../../electron/api/dispatch';
import { handleIpcCall, isAppUrl, isStorefrontUrl } from '../../electron/api/ipc';

const handlers = { 'tasks:list': async () => [] } as unknown as Handlers;

describe('Electron IPC guard', () => {
  it("accepts calls from the app's own pages only", () => {
    expect(isAppUrl('app://microlab/')).toBe(true);
    expect(isAppUrl('app://microlab/index.html#images')).toBe(true);
    for (const url of [
      'https://microlab/',
      'app://evil/',
      'file:///index.html',
      'http://127.0.0.1:4700/',
      '',
      undefined,
      'not a url',
    ]) {
      expect(isAppUrl(url), String(url)).toBe(false);
    }
  });

  it('refuses a foreign frame before looking at the call', async () => {
    expect(await handleIpcCall(handlers, 'https://ads.example/frame', 'tasks:list', {})).toEqual({
      ok: false,
      error: { code: 'forbidden', message: 'IPC from https://ads.example/frame refused' },
    });
    expect(await handleIpcCall(handlers, undefined, 'tasks:list', {})).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
  });

  it("validates the app's own calls like every transport", async () => {
    expect(await handleIpcCall(handlers, 'app://microlab/', 'tasks:list', {})).toEqual({
      ok: true,
      result: [],
    });
    expect(await handleIpcCall(handlers, 'app://microlab/', 'tasks:list', { sneaky: 1 })).toMatchObject({
      ok: false,
      error: { code: 'invalid-input' },
    });
  });

  it('opens only the local storefront in the browser', () => {
    expect(isStorefrontUrl('http://127.0.0.1:8480/')).toBe(true);
    for (const url of [
      'https://127.0.0.1:8480/',
      'http://127.0.0.1/',
      'http://localhost:8480/',
      'http://evil.example:8480/',
      'http://a:b@127.0.0.1:8480/',
      'file:///etc/passwd',
      'javascript:alert(1)',
    ]) {
      expect(isStorefrontUrl(url), url).toBe(false);
    }
  });
});
