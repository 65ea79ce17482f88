/**
 * The Terminal panel's state, and the one entry point every view (and the guided labs) use
 * to open a terminal:
 *
 *   const { openTerminal } = useTerminal();
 *   openTerminal({ workload: 'catalog' });                        // its shell, as the app's user
 *   openTerminal({ workload: 'catalog', replica: 2 });            // a given replica (1-based)
 *   openTerminal({ workload: 'catalog', firewall: true });        // its firewall (the pod's holder), as root
 *   openTerminal({ workload: 'jumpbox', command: 'psql -h orders-db -U shop' });
 *                                    // types the command into the new shell, then Enter
 *
 * Each call opens a new session in a new tab of the dock at the bottom of the window and
 * shows it; it returns the tab's key at once (the session opens in the background, and a
 * refusal — no such workload, a stopped container, the 12-session limit — is shown in the
 * tab). Sessions live in this provider, above the views, so they survive switching views;
 * closing a tab ends the session and its processes in the container.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import type { Api } from '../../../electron/api/contract';
import type { TerminalExit, TerminalSession } from '../../../electron/api/terminal';
import { toUiError } from '../errors';

export interface OpenTerminal {
  workload: string;
  /** 1-based replica; the first by default. */
  replica?: number;
  /** The workload's firewall, its pod's holder (root, NET_ADMIN), instead of its own shell. */
  firewall?: boolean;
  /** A command line typed into the shell once it is open, followed by Enter. */
  command?: string;
}

export type TabState =
  | { kind: 'opening' }
  | { kind: 'open'; session: TerminalSession }
  | { kind: 'failed'; message: string; hint?: string }
  | { kind: 'ended'; session: TerminalSession; end: TerminalExit };

export interface TerminalTab {
  key: string;
  request: OpenTerminal;
  state: TabState;
}

/** Where a session's output goes once its terminal exists (bytes kept until then). */
export interface OutputRouter {
  attach(id: string, write: (bytes: Uint8Array) => void): () => void;
}

interface TerminalContextValue {
  api: Api;
  tabs: TerminalTab[];
  active?: string;
  open: boolean;
  openTerminal(request: OpenTerminal): string;
  closeTab(key: string): void;
  select(key: string): void;
  setOpen(open: boolean): void;
  router: OutputRouter;
}

const TerminalContext = createContext<TerminalContextValue | undefined>(undefined);

export function useTerminal(): Pick<TerminalContextValue, 'openTerminal'> & { tabs: TerminalTab[] } {
  const value = useContext(TerminalContext);
  if (!value) throw new Error('useTerminal needs a <TerminalProvider> above it');
  return { openTerminal: value.openTerminal, tabs: value.tabs };
}

/** For the dock itself. */
export function useTerminalPanel(): TerminalContextValue {
  const value = useContext(TerminalContext);
  if (!value) throw new Error('the Terminal panel needs a <TerminalProvider> above it');
  return value;
}

/** A tab's title: workload, replica, and which side (workload or firewall). */
export function tabTitle(request: OpenTerminal): string {
  return `${request.workload}${request.replica && request.replica > 1 ? ` #${request.replica}` : ''}${request.firewall ? ' · firewall' : ''}`;
}

function decode(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

let nextKey = 1;

export function TerminalProvider({ api, children }: { api: Api; children: ReactNode }) {
  const [tabs, setTabs] = useState<TerminalTab[]>([]);
  const [active, setActive] = useState<string>();
  const [open, setOpen] = useState(false);
  const tabsRef = useRef(tabs);
  tabsRef.current = tabs;

  // Output by session id: to its terminal when attached, else kept until it is.
  const writers = useRef(new Map<string, (bytes: Uint8Array) => void>());
  const pending = useRef(new Map<string, Uint8Array[]>());
  const router = useMemo<OutputRouter>(
    () => ({
      attach(id, write) {
        writers.current.set(id, write);
        for (const bytes of pending.current.get(id) ?? []) write(bytes);
        pending.current.delete(id);
        return () => {
          if (writers.current.get(id) === write) writers.current.delete(id);
        };
      },
    }),
    [],
  );

  const update = useCallback((key: string, state: TabState) => {
    setTabs((list) => list.map((t) => (t.key === key ? { ...t, state } : t)));
  }, []);

  useEffect(() => {
    const offOutput = api.on('terminal:output', ({ id, data }) => {
      const bytes = decode(data);
      const write = writers.current.get(id);
      if (write) write(bytes);
      else pending.current.set(id, [...(pending.current.get(id) ?? []), bytes]);
    });
    const offExit = api.on('terminal:exit', (end) => {
      const tab = tabsRef.current.find((t) => t.state.kind === 'open' && t.state.session.id === end.id);
      if (tab && tab.state.kind === 'open')
        update(tab.key, { kind: 'ended', session: tab.state.session, end });
    });
    return () => {
      offOutput();
      offExit();
    };
  }, [api, update]);

  const openTerminal = useCallback(
    (request: OpenTerminal) => {
      const key = `term-${nextKey++}`;
      setTabs((list) => [...list, { key, request, state: { kind: 'opening' } }]);
      setActive(key);
      setOpen(true);
      api
        .call('terminal:open', {
          target: { workload: request.workload, ...(request.replica ? { replica: request.replica } : {}) },
          as: request.firewall ? 'firewall' : 'workload',
        })
        .then(
          (session) => {
            // A tab closed while its session opened: end the session at once.
            if (!tabsRef.current.some((t) => t.key === key)) {
              void api.call('terminal:close', { id: session.id }).catch(() => undefined);
              return;
            }
            update(key, { kind: 'open', session });
            if (request.command)
              void api
                .call('terminal:input', { id: session.id, data: `${request.command}\r` })
                .catch(() => undefined);
          },
          (err: unknown) => {
            const error = toUiError(err);
            update(key, {
              kind: 'failed',
              message: error.message,
              ...(error.hint ? { hint: error.hint } : {}),
            });
          },
        );
      return key;
    },
    [api, update],
  );

  const closeTab = useCallback(
    (key: string) => {
      const tab = tabsRef.current.find((t) => t.key === key);
      if (tab?.state.kind === 'open') {
        const { id } = tab.state.session;
        void api.call('terminal:close', { id }).catch(() => undefined);
        pending.current.delete(id);
      }
      setTabs((list) => {
        const rest = list.filter((t) => t.key !== key);
        setActive((current) => (current === key ? rest[rest.length - 1]?.key : current));
        return rest;
      });
    },
    [api],
  );

  const value = useMemo<TerminalContextValue>(
    () => ({ api, tabs, active, open, openTerminal, closeTab, select: setActive, setOpen, router }),
    [api, tabs, active, open, openTerminal, closeTab, router],
  );
  return <TerminalContext.Provider value={value}>{children}</TerminalContext.Provider>;
}
