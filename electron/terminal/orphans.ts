/**
 * Terminal sessions left behind: Docker does not end an exec's processes when its client goes
 * (moby/moby#9098), so a MicroLab process that ends without closing its sessions (a crash, a
 * kill -9, a laptop lid closed on a CLI) leaves their shells running in the containers. Every
 * session's processes carry OWNER_ENV=<host>/<pid>; a sweep finds the owners of this host that
 * no longer run and ends their sessions, as closing them would have (SIGHUP, then SIGKILL).
 */
import os from 'node:os';
import type Docker from 'dockerode';
import { demuxBuffer } from '../engine/streams';
import { LABEL } from '../engine/labels';

/** The environment variable that names the MicroLab process that opened a session: `<host>/<pid>`. */
export const OWNER_ENV = 'MICROLAB_TERMINAL_OWNER';
/** This process, as OWNER_ENV names it. */
export const THIS_OWNER = `${os.hostname()}/${process.pid}`;

/** Hang up the processes whose `variable` is $1, then kill what is left. */
export const killScript = (
  variable: string,
) => `find() { grep -lsxzF "${variable}=$1" /proc/[0-9]*/environ | cut -d/ -f3; }
pids=$(find "$1"); [ -z "$pids" ] && exit 0
kill -HUP $pids 2>/dev/null
for i in 1 2 3 4 5; do sleep 0.1; pids=$(find "$1"); [ -z "$pids" ] && exit 0; done
kill -KILL $pids 2>/dev/null; exit 0`;
/** The same for every session of one owner. $1 is the owner. */
const KILL_OWNER_SCRIPT = killScript(OWNER_ENV);
/** The owners of the sessions running in a container, one a line. */
const OWNERS_SCRIPT = `for e in /proc/[0-9]*/environ; do tr '\\0' '\\n' < "$e" 2>/dev/null | grep -m1 "^${OWNER_ENV}="; done | cut -d= -f2- | sort -u`;

/** Whether a process of this host runs (one of another user counts: it runs). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Ends the sessions that MicroLab processes of this host left running when they ended without
 * closing them (a crash, a kill): in every running container of the project, the processes
 * whose owner (OWNER_ENV) no longer runs. Returns the owners whose sessions it ended.
 * Sessions of other hosts' processes (a shared engine) are left alone.
 */
export async function sweepOrphans(docker: Docker, project: string): Promise<string[]> {
  const containers = await docker.listContainers({
    filters: { label: [`${LABEL.project}=${project}`], status: ['running'] },
  });
  const host = `${os.hostname()}/`;
  const ended = new Set<string>();
  await Promise.all(
    containers.map(async (c) => {
      // As the container's own user, the one its sessions run as (target.ts): root without
      // capabilities (an app container drops them all) may not read another user's environ.
      const owners = (await runScript(docker, c.Id, '', ['sh', '-c', OWNERS_SCRIPT]))
        .split('\n')
        .filter((o) => o.startsWith(host) && /^\d+$/.test(o.slice(host.length)))
        .filter((o) => o !== THIS_OWNER && !running(Number(o.slice(host.length))));
      for (const owner of owners) {
        await runScript(docker, c.Id, '', ['sh', '-c', KILL_OWNER_SCRIPT, 'microlab-sweep', owner]);
        ended.add(owner);
      }
    }),
  );
  return [...ended];
}

/** Runs a short script in a container as `user` ('' for the container's own); returns what it printed (stdout and stderr) within 5 s. */
export async function runScript(
  docker: Docker,
  containerId: string,
  user: string,
  cmd: string[],
): Promise<string> {
  const exec = await docker.getContainer(containerId).exec({
    Cmd: cmd,
    User: user,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => out.push(chunk));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      stream.destroy();
      resolve();
    }, 5000);
    stream.on('error', () => undefined);
    stream.on('close', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.on('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return demuxBuffer(Buffer.concat(out));
}
