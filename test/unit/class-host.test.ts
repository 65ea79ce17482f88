/**
 * The class host and the student's client over TLS on 127.0.0.1: a join approved by the
 * instructor, events acknowledged and counted once across a lost network and a restarted host,
 * and every refusal (wrong, revoked and unapproved tokens, another certificate, a browser
 * Origin, a foreign Origin or Host on the dashboard, a body too big, malformed messages), each
 * logged without the token.
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classScratch } from '../class-scratch';
import { ClassClient, post } from '../../electron/class/client';
import { ClassHost } from '../../electron/class/host';
import { decodeJoinCode, MAX_BODY_BYTES, type JoinCode } from '../../electron/class/protocol';
import { ClassStore } from '../../electron/class/store';
import { ProgressStore, stepProgress } from '../../electron/labs/progress';

const { dirs, hosts, tmp } = classScratch('mlc-unit-');

async function startHost(dir: string, autoApprove = false, port = 0): Promise<ClassHost> {
  const store = new ClassStore(dir);
  if (!(await store.open())) await store.create('lo', '127.0.0.1', port, autoApprove);
  const host = new ClassHost({ store, labs: [] });
  await host.start();
  hosts.push(host);
  return host;
}

/** A raw HTTPS request to the host (certificate not checked: this is the test's own host). */
function raw(
  code: JoinCode,
  method: string,
  route: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: code.host, port: code.port, method, path: route, headers, rejectUnauthorized: false },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function student(dir: string, name: string, code: JoinCode) {
  const progress = new ProgressStore(path.join(dir, 'progress.json'), 'student');
  const client = new ClassClient({
    dir: path.join(dir, 'class'),
    progressFile: progress.file,
    student: { name },
    intervalMs: 50,
  });
  await client.load(code);
  return { progress, client };
}

async function doSteps(progress: ProgressStore, hints: number, attempts: number): Promise<void> {
  await progress.update((p) => {
    const s = stepProgress(p, 'monolith-flat', 'deploy');
    s.startedAt ??= new Date().toISOString();
    s.hintsShown += hints;
    s.attempts += attempts;
  });
}

describe('the class host and a student', () => {
  it('joins once approved, sends progress, and each event counts once through a lost network and a host restart', async () => {
    const hostDir = await tmp();
    let host = await startHost(hostDir);
    const code = decodeJoinCode(host.joinCode());
    const { progress, client } = await student(await tmp(), 'Ana Lima', code);
    const joined = client.join();
    await expect.poll(() => host.store.data.students.length).toBe(1);
    expect(host.store.data.students[0]!.state).toBe('pending');
    // Not approved yet: no token, nothing accepted.
    await host.approve('s1');
    await joined;
    await doSteps(progress, 1, 2);
    expect(await client.sync()).toBe(4);
    expect(host.dashboard().totals).toMatchObject({ 'step-started': 1, check: 2, hint: 1 });

    // The host goes away: the student works on, its events wait.
    const port = host.store.data.class.port;
    await host.stop();
    await doSteps(progress, 2, 1);
    await expect(client.sync()).rejects.toThrow();
    expect(client.pending).toBe(3);

    // The host comes back from its store on the same port; the resend is counted once.
    host = await startHost(hostDir, false, port);
    expect(host.store.data.class.port).toBe(port);
    expect(await client.sync()).toBe(3);
    expect(await client.sync()).toBe(0);
    expect(host.dashboard().totals).toMatchObject({ 'step-started': 1, check: 3, hint: 3 });
    const [ana] = host.dashboard().students;
    expect(ana).toMatchObject({
      name: 'Ana Lima',
      lab: 'monolith-flat',
      step: 'deploy',
      attempts: 3,
      hints: 3,
    });

    // Revoked: refused from then on.
    await host.revoke('s1');
    await doSteps(progress, 0, 1);
    await expect(client.sync()).rejects.toThrow(/401/);
    expect(host.dashboard().totals.check).toBe(3);
  });

  it('refuses a server whose certificate is not the pinned one, before sending anything', async () => {
    const host = await startHost(await tmp(), true);
    const code = decodeJoinCode(host.joinCode());
    const other = { ...code, fingerprint: 'ab'.repeat(32) };
    await expect(post(other, '/class/v1/join', code.token, {})).rejects.toThrow(/not the class's/);
    expect(host.store.data.students).toHaveLength(0);
  });

  it('refuses and logs wrong tokens, browsers, foreign origins, big and malformed bodies, never logging a token', async () => {
    const hostDir = await tmp();
    const host = await startHost(hostDir);
    const code = decodeJoinCode(host.joinCode());
    const json = { 'content-type': 'application/json' };
    const hostHeader = `127.0.0.1:${code.port}`;
    const instructor = host.store.data.instructorToken;
    const join = JSON.stringify({ name: 'Bo', nonce: 'n'.repeat(43) });

    const cases: [string, Promise<{ status: number }>, number][] = [
      ['no token', raw(code, 'POST', '/class/v1/join', json, join), 401],
      [
        'wrong class token',
        raw(code, 'POST', '/class/v1/join', { ...json, authorization: 'Bearer wrong' }, join),
        401,
      ],
      [
        'a browser page',
        raw(
          code,
          'POST',
          '/class/v1/join',
          { ...json, authorization: `Bearer ${code.token}`, origin: 'https://evil.example' },
          join,
        ),
        403,
      ],
      [
        'a body too big',
        raw(
          code,
          'POST',
          '/class/v1/events',
          { ...json, authorization: 'Bearer x' },
          Buffer.alloc(MAX_BODY_BYTES + 10, 32),
        ),
        401,
      ],
      [
        'a malformed join',
        raw(
          code,
          'POST',
          '/class/v1/join',
          { ...json, authorization: `Bearer ${code.token}` },
          '{"name": 3}',
        ),
        400,
      ],
      [
        'not JSON',
        raw(code, 'POST', '/class/v1/join', { ...json, authorization: `Bearer ${code.token}` }, '{'),
        400,
      ],
      [
        'another content type',
        raw(
          code,
          'POST',
          '/class/v1/join',
          { 'content-type': 'text/plain', authorization: `Bearer ${code.token}` },
          join,
        ),
        415,
      ],
      [
        'a wrong student token',
        raw(code, 'POST', '/class/v1/events', { ...json, authorization: 'Bearer nope' }, '{"events":[]}'),
        401,
      ],
      [
        'a foreign origin on the dashboard',
        raw(code, 'GET', '/class/v1/state', {
          authorization: `Bearer ${instructor}`,
          origin: 'https://evil.example',
          host: hostHeader,
        }),
        403,
      ],
      [
        'a rebound Host on the dashboard',
        raw(code, 'GET', '/class/v1/state', {
          authorization: `Bearer ${instructor}`,
          host: `evil.example:${code.port}`,
        }),
        403,
      ],
      [
        'a wrong instructor token',
        raw(code, 'GET', '/class/v1/state', { authorization: 'Bearer x', host: hostHeader }),
        401,
      ],
    ];
    for (const [what, answer, status] of cases) expect((await answer).status, what).toBe(status);

    // The dashboard answers its own origin with the right token.
    const ok = await raw(code, 'GET', '/class/v1/state', {
      authorization: `Bearer ${instructor}`,
      origin: `https://${hostHeader}`,
      host: hostHeader,
    });
    expect(ok.status).toBe(200);

    // A student's own token, before approval: not accepted; after: a body too big is refused.
    const { client } = await student(await tmp(), 'Cy', code);
    const joining = client.join();
    await expect.poll(() => host.store.data.students.length).toBe(1);
    await host.approve('s1');
    await joining;
    const token = (
      JSON.parse(await readFile(path.join(dirs.at(-1)!, 'class', 'join.json'), 'utf8')) as { token: string }
    ).token;
    const big = await raw(
      code,
      'POST',
      '/class/v1/events',
      { ...json, authorization: `Bearer ${token}` },
      Buffer.alloc(MAX_BODY_BYTES + 10, 32),
    );
    expect(big.status).toBe(413);
    const malformed = await raw(
      code,
      'POST',
      '/class/v1/events',
      { ...json, authorization: `Bearer ${token}` },
      JSON.stringify({ events: [{ id: 'x', kind: 'keystrokes', at: 'now' }] }),
    );
    expect(malformed.status).toBe(400);
    expect(malformed.text).toMatch(/events\.0\.kind/);

    const log = await readFile(path.join(hostDir, 'host.log'), 'utf8');
    expect(log.match(/refused/g)!.length).toBeGreaterThanOrEqual(cases.length + 2);
    for (const secret of [code.token, instructor, token]) expect(log).not.toContain(secret);
  });

  it('keeps an unapproved joiner waiting, and a refused one out', async () => {
    const host = await startHost(await tmp());
    const code = decodeJoinCode(host.joinCode());
    const { client } = await student(await tmp(), 'Dee', code);
    const ac = new AbortController();
    // Its refusal may come while the revoke is still being saved: expected from the start.
    const refused = expect(client.join(ac.signal)).rejects.toThrow(/refused/);
    await expect.poll(() => host.store.data.students.length).toBe(1);
    await host.revoke('s1');
    await refused;
    ac.abort();
  });

  it('takes nothing once the class ended; a student away at the end learns it from the refusal and stops', async () => {
    const host = await startHost(await tmp(), true);
    const code = decodeJoinCode(host.joinCode());
    const { progress, client } = await student(await tmp(), 'Eve', code);
    await client.join();
    await doSteps(progress, 1, 1);
    expect(await client.sync()).toBe(3);
    await host.end();
    // Worked on while the class ended: refused, not counted.
    await doSteps(progress, 1, 1);
    await expect(client.sync()).rejects.toThrow(/410.*the class ended/);
    expect(host.dashboard().totals).toMatchObject({ 'step-started': 1, check: 1, hint: 1 });
    expect(await readFile(path.join(host.store.dir, 'host.log'), 'utf8')).toMatch(
      /refused .* POST \/class\/v1\/events: 410 the class ended/,
    );
    // Its MicroLab stops by itself (no restart of it, no network loop) and remembers the end.
    const notices: string[] = [];
    const again = new ClassClient({
      dir: path.join(path.dirname(progress.file), 'class'),
      progressFile: progress.file,
      student: { name: 'Eve' },
      intervalMs: 50,
      onNotice: (line) => notices.push(line),
    });
    await again.load();
    expect(again.ended).toBe(false);
    await again.run();
    expect(again.ended).toBe(true);
    expect(notices).toEqual(['the instructor ended the class']);
    // Nor does the ended class take a join.
    await expect(
      post(code, '/class/v1/join', code.token, { name: 'Late', nonce: 'n'.repeat(32) }),
    ).rejects.toThrow(/410/);
  });
});
