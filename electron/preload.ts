/**
 * The preload bridge: one object, `window.microlab`, over IPC. It forwards only the
 * contract's methods and events; replies keep their envelope so the UI can show the real
 * error with its hint.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import type { Bridge, Envelope, EventName, Events } from './api/contract';
import { isEventName, isMethodName } from './api/contract';

const bridge: Bridge = {
  async invoke(method, input) {
    if (!isMethodName(method))
      return { ok: false, error: { code: 'unknown-method', message: `unknown method ${String(method)}` } };
    return (await ipcRenderer.invoke(method, input)) as Envelope<unknown>;
  },
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void) {
    if (!isEventName(event)) throw new Error(`unknown event ${String(event)}`);
    const wrapped = (_e: IpcRendererEvent, payload: Events[E]) => listener(payload);
    ipcRenderer.on(event, wrapped);
    return () => {
      ipcRenderer.removeListener(event, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('microlab', bridge);
