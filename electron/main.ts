/**
 * Electron's main process: the thin edge. It serves the built UI from the app:// scheme,
 * locks the window down, and carries the API contract over IPC to the same services the
 * CLI and the browser transport use.
 */
import { app, BrowserWindow, ipcMain, net, protocol, session, shell } from 'electron';
import type { IpcMainInvokeEvent, WebContents } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createConnection } from './api/connection';
import type { ConnectionHandle } from './api/connection';
import { eventNames, methods } from './api/contract';
import { APP_ORIGIN, handleIpcCall, isAppUrl, isStorefrontUrl } from './api/ipc';
import { CONTENT_SECURITY_POLICY } from './api/security';
import { appRoot, rendererDir } from './paths';
import { createServices, reconcileOnStart } from './services';

const SCHEME = 'app';

protocol.registerSchemesAsPrivileged([
  { scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);

/** Serves dist/renderer under app://microlab/, never a path outside it. */
function serveRenderer(): void {
  const root = rendererDir();
  protocol.handle(SCHEME, async (request) => {
    const { host, pathname } = new URL(request.url);
    const file = path.resolve(root, '.' + decodeURIComponent(pathname === '/' ? '/index.html' : pathname));
    if (host !== 'microlab' || !file.startsWith(root + path.sep))
      return new Response('not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(response.headers);
    headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
    return new Response(response.body, { status: response.status, headers });
  });
}

/** Every window: no navigation away from the app, no new windows, no webviews, no permissions. */
/** The class dashboard the app hosts now, once the services run (it opens in the browser). */
let isClassDashboard: (url: string) => boolean = () => false;

function restrict(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    // The storefront of a running deployment and the dashboard of the class hosted now open in
    // the user's browser; nothing else opens.
    if (isStorefrontUrl(url) || isClassDashboard(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

/**
 * One connection per window's page: its terminal sessions' output goes to that page only, and
 * a page that goes (closed, reloaded, crashed) closes its sessions.
 */
function connectionOf(contents: WebContents, handles: Map<number, ConnectionHandle>): ConnectionHandle {
  let handle = handles.get(contents.id);
  if (handle) return handle;
  handle = createConnection((event, payload) => {
    if (!contents.isDestroyed()) contents.send(event, payload);
  }, 'ipc');
  handles.set(contents.id, handle);
  const gone = () => {
    handles.get(contents.id)?.close();
    handles.delete(contents.id);
  };
  contents.once('destroyed', gone);
  contents.once('render-process-gone', gone);
  contents.once('did-navigate', gone);
  return handle;
}

function registerIpc(services: ReturnType<typeof createServices>): void {
  const handles = new Map<number, ConnectionHandle>();
  for (const method of Object.keys(methods)) {
    ipcMain.handle(method, (event: IpcMainInvokeEvent, input: unknown) =>
      handleIpcCall(
        services.handlers,
        event.senderFrame?.url,
        method,
        input,
        connectionOf(event.sender, handles).connection,
      ),
    );
  }
  for (const event of eventNames) {
    services.events.on(event, (payload) => {
      for (const window of BrowserWindow.getAllWindows()) window.webContents.send(event, payload);
    });
  }
}

async function createWindow(): Promise<void> {
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    title: 'MicroLab',
    icon: path.join(appRoot(), 'assets', 'icon.png'),
    webPreferences: {
      preload: path.join(appRoot(), 'dist', 'electron', 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  await window.loadURL(`${APP_ORIGIN}/`);
}

app.on('web-contents-created', (_event, contents) => restrict(contents));

void app.whenReady().then(async () => {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  serveRenderer();
  const services = createServices();
  isClassDashboard = (url) => services.classHost.isDashboardUrl(url);
  registerIpc(services);
  void reconcileOnStart(services);
  // Keep the policy in force as workloads come and go (scaling, upgrades, restarts).
  let stopFirewall: (() => void) | undefined;
  services.firewall.watch().then(
    (stop) => (stopFirewall = stop),
    () => undefined, // no engine yet: the first screen says so
  );
  // Quitting waits (5 s at most) for the terminal sessions' processes to end in the containers;
  // what a crash leaves, the next MicroLab to open a terminal ends (terminal/orphans.ts).
  let terminalsClosed = false;
  app.on('will-quit', (event) => {
    stopFirewall?.();
    void services.klass.stop();
    if (terminalsClosed || services.terminal.list().length === 0) return;
    event.preventDefault();
    terminalsClosed = true;
    void Promise.race([
      services.terminal.closeAll(),
      new Promise((resolve) => setTimeout(resolve, 5000)),
    ]).finally(() => app.quit());
  });
  await createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
