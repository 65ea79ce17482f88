import { describe, expect, it } from 'vitest';
import { pollUntil, seconds, sleep, TimeoutError, withTimeout } from '../../electron/wait';

describe('pollUntil', () => {
  it('asks again until an answer comes, and returns it', async () => {
    let calls = 0;
    const answer = await pollUntil(() => (++calls < 3 ? undefined : `after ${calls}`), {
      what: 'the third call',
      limitMs: 60_000,
      everyMs: 1,
    });
    expect(answer).toBe('after 3');
    expect(calls).toBe(3);
  });

  it('takes false as "not yet" and keeps other falsy answers', async () => {
    const seen: (number | false)[] = [false, false, 0];
    await expect(pollUntil(() => seen.shift(), { what: 'zero', limitMs: 60_000, everyMs: 1 })).resolves.toBe(
      0,
    );
  });

  it('names what it waited for when the limit passes, after asking once more', async () => {
    let calls = 0;
    const error = await pollUntil(
      () => {
        calls++;
        return false;
      },
      { what: 'the container to be gone', limitMs: 0 },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ what: 'the container to be gone', limitMs: 0 });
    expect((error as Error).message).toBe('the container to be gone: not within 0 s');
    expect(calls).toBe(1);
  });

  it("ends with the check's own error", async () => {
    await expect(
      pollUntil(
        () => {
          throw new Error('engine gone');
        },
        { what: 'x', limitMs: 60_000 },
      ),
    ).rejects.toThrow('engine gone');
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    const waiting = pollUntil(
      () => {
        controller.abort();
        return undefined;
      },
      { what: 'nothing', limitMs: 60_000, everyMs: 60_000, signal: controller.signal },
    );
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('withTimeout', () => {
  it('passes on the outcome of work that settles', async () => {
    await expect(withTimeout(Promise.resolve(7), { what: 'seven', limitMs: 60_000 })).resolves.toBe(7);
    await expect(
      withTimeout(Promise.reject(new Error('refused')), { what: 'a refusal', limitMs: 60_000 }),
    ).rejects.toThrow('refused');
  });

  it('names what did not come, and lets the caller let go of it', async () => {
    let released = false;
    const never = new Promise<never>(() => undefined);
    const error = await withTimeout(never, {
      what: 'sh in 0123456789ab to finish',
      limitMs: 5,
      onTimeout: () => (released = true),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe('sh in 0123456789ab to finish: not within 0.01 s');
    expect(released).toBe(true);
  });
});

describe('sleep and seconds', () => {
  it('sleeps until aborted', async () => {
    const controller = new AbortController();
    const sleeping = sleep(60_000, controller.signal);
    controller.abort();
    await expect(sleeping).rejects.toMatchObject({ name: 'AbortError' });
    await expect(sleep(0)).resolves.toBeUndefined();
  });

  it('says a limit in seconds', () => {
    expect(seconds(5000)).toBe('5 s');
    expect(seconds(500)).toBe('0.5 s');
    expect(seconds(1250)).toBe('1.25 s');
  });
});
