import { describe, expect, it } from 'vitest';
import { methods } from '../../electron/api/contract';
import type { Handlers } from '../../electron/api/dispatch';
import { dispatch, validateCall } from '../../electron/api/dispatch';
import { ApiError } from '../../electron/errors';

/** Handlers that echo what they were given, so the tests see what validation let through. */
const echo = new Proxy({} as Handlers, {
  get: (_t, method: string) => async (input: unknown) => ({ method, input }),
});

describe('the API boundary', () => {
  it('passes valid input through, parsed', async () => {
    const reply = await dispatch(echo, 'images:import', { file: '  /srv/bundle.tar ' });
    expect(reply).toEqual({
      ok: true,
      result: { method: 'images:import', input: { file: '/srv/bundle.tar' } },
    });
  });

  it('treats a missing input as empty', async () => {
    expect(await dispatch(echo, 'engine:doctor', undefined)).toEqual({
      ok: true,
      result: { method: 'engine:doctor', input: {} },
    });
  });

  it.each([
    ['images:import', {}, 'images:import: file: Invalid input: expected string, received undefined'],
    ['images:import', { file: '' }, 'images:import: file: a file path is required'],
    ['images:export', { file: 42 }, 'images:export: file: Invalid input: expected string, received number'],
    ['engine:doctor', { extra: true }, 'engine:doctor: Unrecognized key: "extra"'],
    [
      'resources:down',
      { images: 'yes' },
      'resources:down: images: Invalid input: expected boolean, received string',
    ],
    [
      'tasks:cancel',
      { id: 'x'.repeat(101) },
      'tasks:cancel: id: Too big: expected string to have <=100 characters',
    ],
  ])('rejects %s %j with what and where', async (method, input, message) => {
    expect(await dispatch(echo, method, input)).toEqual({
      ok: false,
      error: { code: 'invalid-input', message },
    });
  });

  it('rejects unknown methods, including inherited property names', async () => {
    for (const method of ['images:delete', 'toString', '__proto__', 42]) {
      const reply = await dispatch(echo, method, {});
      expect(reply.ok).toBe(false);
      expect(!reply.ok && reply.error.code).toBe('unknown-method');
    }
  });

  it('carries a service error as code, message and hint, and anything else as internal', async () => {
    const failing = {
      ...echo,
      'engine:status': async () => {
        throw new ApiError('engine-unreachable', 'Docker engine not reachable.', 'Start it.');
      },
      'images:list': async () => {
        throw new TypeError('boom');
      },
    } as Handlers;
    expect(await dispatch(failing, 'engine:status', {})).toEqual({
      ok: false,
      error: { code: 'engine-unreachable', message: 'Docker engine not reachable.', hint: 'Start it.' },
    });
    expect(await dispatch(failing, 'images:list', {})).toEqual({
      ok: false,
      error: { code: 'internal', message: 'boom' },
    });
  });

  it('validateCall throws ApiError for bad calls', () => {
    expect(() => validateCall('nope', {})).toThrow(ApiError);
    expect(validateCall('tasks:cancel', { id: 'abc' })).toEqual({
      method: 'tasks:cancel',
      input: { id: 'abc' },
    });
  });

  it('every method has an input schema', () => {
    for (const [name, spec] of Object.entries(methods)) {
      expect(spec.input, name).toBeDefined();
      expect(name).toMatch(/^[a-z]+:[a-z-]+$/);
    }
  });
});
