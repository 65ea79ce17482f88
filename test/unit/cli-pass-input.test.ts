import { PassThrough } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LocalApi } from '../../electron/api/local';
import { passInput } from '../../electron/cli/terminal';

describe("`microlab exec`'s input", () => {
  it('reaches the command whole and in order, its end last, however slowly each call goes', async () => {
    // 200 KB: four calls of input, each answered after a pause (a busy machine).
    const data = randomBytes(200 * 1024);
    const calls: { data: string; end?: boolean }[] = [];
    let resolveEnd!: () => void;
    const ended = new Promise<void>((r) => (resolveEnd = r));
    const api = {
      call: async (_method: string, input: { data: string; end?: boolean }) => {
        await new Promise((r) => setTimeout(r, 20));
        calls.push(input);
        if (input.end) resolveEnd();
      },
    } as unknown as LocalApi;
    const stdin = new PassThrough();
    const dispose = passInput(api, 'session', stdin);
    // One chunk, then end of file at once: Node emits 'end' while the chunk's calls are on their way.
    stdin.end(data);
    await ended;
    dispose();
    expect(calls.length).toBeGreaterThan(2);
    expect(calls.findIndex((c) => c.end)).toBe(calls.length - 1);
    expect(Buffer.concat(calls.map((c) => Buffer.from(c.data, 'base64')))).toEqual(data);
  });
});
