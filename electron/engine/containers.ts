/**
 * Throwaway containers: start one from an image, wait for it to exit, collect its output,
 * remove it. Used by the doctor's probes and the image checks.
 */
import type Docker from 'dockerode';
import type { ContainerCreateOptions } from 'dockerode';
import { demuxBuffer } from './streams';

export interface RunResult {
  exitCode: number;
  output: string;
}

export async function runToCompletion(
  docker: Docker,
  options: ContainerCreateOptions,
  { timeoutMs = 30_000, signal }: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<RunResult> {
  const container = await docker.createContainer(options);
  try {
    await container.start();
    const timeout = AbortSignal.timeout(timeoutMs);
    const waited = container.wait({
      abortSignal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    }) as Promise<{
      StatusCode: number;
    }>;
    const { StatusCode } = await waited.catch((err: unknown) => {
      if (timeout.aborted)
        throw new Error(`${options.name ?? 'container'} did not finish within ${timeoutMs / 1000}s`);
      throw err;
    });
    const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return { exitCode: StatusCode, output: options.Tty ? logs.toString('utf8') : demuxBuffer(logs) };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
