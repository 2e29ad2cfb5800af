// The Electron shell: one window, the backend in a utility process, native dialogs. The only
// Node-side code that imports 'electron'. Compute never runs here, so the UI never waits on it.
import { app, BrowserWindow, dialog, ipcMain, MessageChannelMain, net, protocol, session, utilityProcess } from 'electron';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fileURLToPath } from 'node:url';
import { shellContract } from '../../shared/contract';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp';
import { resolveDbPath } from '../store/paths';
import { APP_ORIGIN, APP_SCHEME, resolveAppAsset } from './app-asset';

const here = dirname(fileURLToPath(import.meta.url));
// `electron-vite dev` serves the renderer itself; a packaged app never takes that from the environment.
const rendererUrl = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;
const rendererDir = join(here, '../renderer');

// The UI is served from app://linguascope/ rather than file:// (file:// pages may read any local
// file): a standard, secure scheme so that CSP 'self', fetch and module scripts work as on https.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

// The backend (SQLite, onnxruntime) lives in a utility process: `session.run` blocks its thread.
function startBackend() {
  const dbPath = resolveDbPath(undefined, { ...process.env, LINGUASCOPE_DB: process.env.LINGUASCOPE_DB ?? join(app.getPath('userData'), 'linguascope.db') });
  return utilityProcess.fork(join(here, 'backend-utility.js'), [], { serviceName: 'LinguaScope backend', env: { ...process.env, LINGUASCOPE_DB: dbPath } });
}

function isAppFrame(url: string | undefined): boolean {
  return !!url && (url.startsWith(`${APP_ORIGIN}/`) || (!!rendererUrl && url.startsWith(rendererUrl)));
}

function createWindow(backend: Electron.UtilityProcess) {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'LinguaScope',
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      // DevTools only in development: a packaged app has no way into the page's context.
      devTools: !app.isPackaged,
    },
  });
  // Navigation away from the app and new windows are refused; links never open inside the app.
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  // Each page load gets a fresh MessagePort pair: renderer <-> backend, main only hands it over.
  win.webContents.on('did-finish-load', () => {
    const { port1, port2 } = new MessageChannelMain();
    backend.postMessage({ type: 'connect' }, [port1]);
    win.webContents.postMessage('api-port', null, [port2]);
  });
  if (rendererUrl) void win.loadURL(rendererUrl);
  else void win.loadURL(`${APP_ORIGIN}/index.html`);
}

app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) =>
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } }),
  );
  // No web permission (camera, notifications, clipboard, …) is asked for or granted, and checks
  // (which Chromium makes without a request, e.g. for navigator.permissions) say no as well.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  protocol.handle(APP_SCHEME, (request) => {
    const asset = resolveAppAsset(rendererDir, request.url);
    if (!asset) return new Response('not found', { status: 404 });
    return net.fetch(pathToFileURL(asset.file).toString()).then(
      (file) => new Response(file.body, { status: file.status, headers: { 'content-type': asset.type, 'content-security-policy': CONTENT_SECURITY_POLICY } }),
      () => new Response('not found', { status: 404 }),
    );
  });

  // Shell methods of the contract (native dialogs), validated like every backend payload.
  ipcMain.handle('shell', async (event, method: unknown, arg: unknown) => {
    if (!isAppFrame(event.senderFrame?.url)) return { ok: false, error: { code: 'NOT_AVAILABLE', message: 'not from the app' } };
    if (method !== 'dialog.openFolder') return { ok: false, error: { code: 'UNKNOWN_METHOD', message: `no shell method ${String(method)}` } };
    const parsed = shellContract['dialog.openFolder'].input.safeParse(arg ?? {});
    if (!parsed.success) return { ok: false, error: { code: 'INVALID_ARGUMENT', message: parsed.error.issues[0]?.message ?? 'invalid' } };
    const owner = BrowserWindow.fromWebContents(event.sender);
    const options = { title: parsed.data.title ?? 'Choose a folder', properties: ['openDirectory' as const] };
    const result = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options);
    return { ok: true, value: { path: result.canceled ? null : (result.filePaths[0] ?? null) } };
  });

  const backend = startBackend();
  createWindow(backend);
  app.on('activate', () => BrowserWindow.getAllWindows().length === 0 && createWindow(backend));
  app.on('before-quit', () => backend.kill());
});

app.on('window-all-closed', () => process.platform !== 'darwin' && app.quit());
