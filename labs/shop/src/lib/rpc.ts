/**
 * How a module's typed interface crosses the network: each method becomes
 * `POST /<module>/<method>` with `{ "args": [...] }`, answered with `{ "result": ... }`.
 * The same interface is called in process in the monolith and through `remote()` in the
 * microservices, so the code that uses a module cannot tell the difference.
 */
import type { ServiceClient } from './client';
import { badRequest } from './errors';
import type { Router } from './http';

type AsyncMethods<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof T];

/** Exposes `methods` of `impl` on the router. */
export function expose<T>(
  router: Router,
  module: string,
  impl: T,
  methods: readonly AsyncMethods<T>[],
): void {
  for (const name of methods) {
    router.on('POST', `/${module}/${String(name)}`, async (req) => {
      const body = (await req.json()) as { args?: unknown };
      if (!Array.isArray(body.args)) throw badRequest('invalid-rpc', 'expected {"args": [...]}');
      const fn = impl[name] as (...args: unknown[]) => Promise<unknown>;
      return { result: (await fn.apply(impl, body.args)) ?? null };
    });
  }
}

/** A typed client for a module served by `expose` at the other end of `client`. */
export function remote<T>(module: string, client: ServiceClient, methods: readonly AsyncMethods<T>[]): T {
  const proxy: Record<string, unknown> = {};
  for (const name of methods) {
    proxy[String(name)] = async (...args: unknown[]) => {
      const reply = await client.request<{ result: unknown }>('POST', `/${module}/${String(name)}`, { args });
      return reply.result === null ? undefined : reply.result;
    };
  }
  return proxy as T;
}
