/**
 * execIn against a fake engine on a unix socket: a real dockerode client creates the exec,
 * starts it (hijacked: HTTP 101, then Docker's multiplexed stream) and inspects its exit code.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import { execIn } from '../../electron/engine/exec';
import { TimeoutError } from '../../electron/wait';

function frame(stream: 1 | 2, text: string): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(stream, 0);
  header.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([header, Buffer.from(text)]);
}

interface Seen {
  created?: { Cmd: string[]; AttachStdin: boolean };
  input: string;
}

/** How the fake command behaves once started: what it prints, whether it ends. */
type Behaviour = (socket: Duplex, input: () => string) => void;

async function fakeEngine(
  behaviour: Behaviour,
  exitCode = 0,
): Promise<{ docker: Docker; seen: Seen; server: Server }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'microlab-exec-'));
  const socketPath = path.join(dir, 'docker.sock');
  const seen: Seen = { input: '' };
  const body = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => resolve(text));
    });
  const server = createServer((req, res) => {
    void body(req).then((text) => {
      res.setHeader('Content-Type', 'application/json');
      if (req.method === 'POST' && /\/containers\/c1\/exec$/.test(req.url ?? '')) {
        seen.created = JSON.parse(text) as Seen['created'];
        res.writeHead(201).end(JSON.stringify({ Id: 'e1' }));
      } else if (req.method === 'GET' && /\/exec\/e1\/json$/.test(req.url ?? '')) {
        res.writeHead(200).end(JSON.stringify({ ExitCode: exitCode, Running: false }));
      } else res.writeHead(404).end(JSON.stringify({ message: `no ${req.method} ${req.url}` }));
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.write(
      'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n' +
        'Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
    );
    // The start request's own JSON body comes first on the socket; the command's input follows.
    let body = Number(req.headers['content-length'] ?? 0);
    const take = (c: Buffer) => {
      const skip = Math.min(body, c.length);
      body -= skip;
      seen.input += c.subarray(skip).toString();
    };
    take(head);
    socket.on('data', take);
    behaviour(socket, () => seen.input);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return { docker: new Docker({ socketPath }), seen, server };
}

describe('execIn', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      s.close();
    }
  });

  it("collects stdout and stderr in order, and the command's exit code", async () => {
    const { docker, seen, server } = await fakeEngine((socket) => {
      socket.write(Buffer.concat([frame(1, 'table inet microlab {\n'), frame(2, 'warning\n')]));
      socket.end(frame(1, '}\n'));
    }, 3);
    servers.push(server);
    const result = await execIn(docker, 'c1', ['nft', 'list', 'table', 'inet', 'microlab']);
    expect(result).toEqual({
      exitCode: 3,
      output: 'table inet microlab {\nwarning\n}\n',
      stdout: 'table inet microlab {\n}\n',
      stderr: 'warning\n',
    });
    expect(seen.created).toMatchObject({
      Cmd: ['nft', 'list', 'table', 'inet', 'microlab'],
      AttachStdin: false,
    });
  });

  it('writes the input to the command and closes its stdin', async () => {
    const { docker, seen, server } = await fakeEngine((socket, input) => {
      // the command answers once its input has ended (half-close)
      socket.on('end', () => socket.end(frame(1, `read ${input().length} bytes\n`)));
    });
    servers.push(server);
    const result = await execIn(docker, 'c1', ['sh', '-c', 'cat > /tmp/t'], { input: 'flush ruleset\n' });
    expect(result.output).toBe('read 14 bytes\n');
    expect(seen.input).toBe('flush ruleset\n');
    expect(seen.created?.AttachStdin).toBe(true);
  });

  it('gives up after its limit, naming the command and the container', async () => {
    const { docker, server } = await fakeEngine((socket) => socket.write(frame(1, 'still going\n')));
    servers.push(server);
    const error = await execIn(docker, 'c1', ['sleep', 'infinity'], { timeoutMs: 50 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe('sleep in c1 to finish: not within 0.05 s');
  });
});
