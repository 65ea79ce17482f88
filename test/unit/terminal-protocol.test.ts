/**
 * The terminal protocol's validation at the API boundary: session ids, targets, input size,
 * resize bounds. Bad input is refused with what and where, before any handler runs.
 */
import { describe, expect, it } from 'vitest';
import { DETACHED } from '../../electron/api/connection';
import { createConnection } from '../../electron/api/connection';
import { dispatch, validateCall } from '../../electron/api/dispatch';
import type { Handlers } from '../../electron/api/dispatch';
import { MAX_COLS, MAX_INPUT_CHARS, MAX_ROWS } from '../../electron/api/terminal';
import { ApiError } from '../../electron/errors';

const ID = 't0123456789abcdef';

function refusal(method: string, input: unknown): string {
  try {
    validateCall(method, input);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('invalid-input');
    return (err as ApiError).message;
  }
  throw new Error(`${method} accepted ${JSON.stringify(input)}`);
}

describe('terminal:open', () => {
  it('takes a workload instance or a container, as the workload (by default) or its firewall', () => {
    expect(validateCall('terminal:open', { target: { workload: 'catalog' } }).input).toEqual({
      target: { workload: 'catalog' },
      as: 'workload',
    });
    expect(
      validateCall('terminal:open', {
        target: { workload: 'catalog', replica: 2 },
        as: 'firewall',
        cols: 80,
        rows: 24,
      }).input,
    ).toMatchObject({ as: 'firewall', cols: 80, rows: 24 });
    expect(validateCall('terminal:open', { target: { container: 'microlab-shop-1' } }).input).toMatchObject({
      target: { container: 'microlab-shop-1' },
    });
  });

  it.each([
    [{}, 'target'],
    [{ target: { workload: 'Catalog; rm -rf /' } }, 'target'],
    [{ target: { workload: 'catalog', replica: 0 } }, 'target'],
    [{ target: { container: '../etc' } }, 'target'],
    [{ target: { workload: 'catalog', container: 'x' } }, 'target'],
    [{ target: { workload: 'catalog' }, as: 'root' }, 'as'],
    [{ target: { workload: 'catalog' }, cols: MAX_COLS + 1 }, 'cols'],
    [{ target: { workload: 'catalog' }, rows: 0 }, 'rows'],
    [{ target: { workload: 'catalog' }, command: [] }, 'command'],
    [{ target: { workload: 'catalog' }, user: 'root' }, 'user'],
  ])('refuses %j, naming %s', (input, field) => {
    expect(refusal('terminal:open', input)).toMatch(new RegExp(`^terminal:open: .*${field}`));
  });
});

describe('terminal:input, resize and close', () => {
  it('take a session id as terminal:open returns it', () => {
    expect(validateCall('terminal:input', { id: ID, data: 'ls\r' }).input).toEqual({ id: ID, data: 'ls\r' });
    expect(validateCall('terminal:close', { id: ID }).input).toEqual({ id: ID });
    for (const id of ['', 'x', 't0123', `${ID}0`, 'T0123456789ABCDEF', '../t0123456789abcdef', 42]) {
      expect(refusal('terminal:close', { id })).toContain(
        'id: a terminal session id as terminal:open returned it',
      );
    }
  });

  it(`refuses input over ${MAX_INPUT_CHARS} characters a call`, () => {
    expect(validateCall('terminal:input', { id: ID, data: 'x'.repeat(MAX_INPUT_CHARS) }).input).toBeTruthy();
    expect(refusal('terminal:input', { id: ID, data: 'x'.repeat(MAX_INPUT_CHARS + 1) })).toContain(
      `data: at most ${MAX_INPUT_CHARS} characters a call`,
    );
    expect(refusal('terminal:input', { id: ID, data: 7 })).toContain('data');
  });

  it('keeps a resize within bounds', () => {
    expect(validateCall('terminal:resize', { id: ID, cols: 2, rows: 1 }).input).toBeTruthy();
    expect(validateCall('terminal:resize', { id: ID, cols: MAX_COLS, rows: MAX_ROWS }).input).toBeTruthy();
    for (const [cols, rows] of [
      [1, 24],
      [80, 0],
      [MAX_COLS + 1, 24],
      [80, MAX_ROWS + 1],
      [80.5, 24],
      [-80, 24],
    ]) {
      expect(refusal('terminal:resize', { id: ID, cols, rows })).toMatch(/cols|rows/);
    }
  });
});

describe('connections', () => {
  it('hand the caller to the handler, and run close hooks once', async () => {
    const seen: string[] = [];
    const handlers = {
      'terminal:list': async (_input: unknown, connection: { id: string }) => {
        seen.push(connection.id);
        return [];
      },
    } as unknown as Handlers;
    const handle = createConnection(() => undefined, 'ws');
    let closed = 0;
    handle.connection.onClose(() => closed++);
    await dispatch(handlers, 'terminal:list', {}, handle.connection);
    await dispatch(handlers, 'terminal:list', {});
    expect(seen).toEqual([handle.connection.id, DETACHED.id]);
    handle.close();
    handle.close();
    expect(closed).toBe(1);
    expect(handle.connection.closed).toBe(true);
  });
});
