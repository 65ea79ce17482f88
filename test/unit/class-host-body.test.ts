/**
 * The class host over TLS on 127.0.0.1 against bodies that are not what they say: a chunked
 * body (no Content-Length) past MAX_BODY_BYTES, and one whose sender goes away mid-way, are
 * refused and logged, and the host goes on answering (it once died of them).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { post } from '../../electron/class/client';
import { ClassHost } from '../../electron/class/host';
import { decodeJoinCode, MAX_BODY_BYTES, type JoinCode } from '../../electron/class/protocol';
import { ClassStore } from '../../electron/class/store';

const dirs: string[] = [];
const hosts: ClassHost[] = [];

afterEach(async () => {
  for (const h of hosts.splice(0)) await h.stop();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function startHost(): Promise<ClassHost> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mlc-body-'));
  dirs.push(dir);
  const store = new ClassStore(dir);
  await store.create('lo', '127.0.0.1', 0, false);
  const host = new ClassHost({ store, labs: [] });
  await host.start();
  hosts.push(host);
  return host;
}

/**
 * POSTs `chunks` to the join route as a chunked body (no Content-Length), with the class token;
 * `abort` ends the connection after them instead of finishing the body. Resolves the status, or
 * 0 when the connection ended without one.
 */
function chunked(code: JoinCode, chunks: Buffer[], abort = false): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: code.host,
        port: code.port,
        method: 'POST',
        path: '/class/v1/join',
        headers: {
          host: `127.0.0.1:${code.port}`,
          authorization: `Bearer ${code.token}`,
          'content-type': 'application/json',
          'transfer-encoding': 'chunked',
        },
        rejectUnauthorized: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    for (const c of chunks) req.write(c);
    if (abort) setTimeout(() => req.destroy(), 100);
    else req.end();
  });
}

describe("the class host's bodies", () => {
  it('refuses a chunked body too big and one cut short, and goes on answering', async () => {
    const host = await startHost();
    const code = decodeJoinCode(host.joinCode());
    const piece = Buffer.alloc(64 * 1024, 'a');
    const big = Array.from({ length: Math.ceil((MAX_BODY_BYTES * 3) / piece.length) }, () => piece);
    expect([0, 413]).toContain(await chunked(code, big));
    expect(await chunked(code, [Buffer.from('{"name":"Ana"')], true)).toBe(0);
    await expect
      .poll(async () => readFile(path.join(host.store.dir, 'host.log'), 'utf8'))
      .toMatch(/refused 127\.0\.0\.1 POST \/class\/v1\/join: 413 a body over 262144 bytes/);
    // Still hosting: a join is answered.
    const answer = await post<{ state: string }>(code, '/class/v1/join', code.token, {
      name: 'Ana Lima',
      nonce: 'n'.repeat(40),
    });
    expect(answer.state).toBe('pending');
  });
});
