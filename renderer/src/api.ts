/**
 * The renderer's one way to MicroLab: Electron's preload bridge when there is one, else the
 * browser transport, with the token taken from the page's address. Components never know which.
 */
import type { Api, Bridge, MethodName } from '../../electron/api/contract';
import { fromErrorShape } from '../../electron/errors';
import { connectWsApi } from '../../electron/api/ws-client';
import { TOKEN_PARAM } from '../../electron/api/ws-protocol';

declare global {
  interface Window {
    microlab?: Bridge;
  }
}

export function fromBridge(bridge: Bridge): Api {
  return {
    async call(method: MethodName, input: unknown) {
      const reply = await bridge.invoke(method, input);
      if (!reply.ok) throw fromErrorShape(reply.error);
      return reply.result as never;
    },
    on: (event, listener) => bridge.on(event, listener),
  };
}

export function connectApi(): Promise<Api> {
  if (window.microlab) return Promise.resolve(fromBridge(window.microlab));
  const token = new URLSearchParams(window.location.search).get(TOKEN_PARAM) ?? '';
  return connectWsApi(window.location.origin, token, WebSocket);
}
