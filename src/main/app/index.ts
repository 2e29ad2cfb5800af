// The Electron shell: one window, the backend in a utility process, native dialogs. The only
// Node-side code that imports 'electron'. Compute never runs here, so the UI never waits on it.
import { app, BrowserWindow, dialog, ipcMain, MessageChannelMain, session, utilityProcess } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shellContract } from '../../shared/contract';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp';
import { resolveDbPath } from '../store/paths';

const here = dirname(fileURLToPath(import.meta.url));
const rendererUrl = process.env.ELECTRON_RENDERER_URL; // set by `electron-vite dev`

// The backend (SQLite, onnxruntime) lives in a utility process: `session.run` blocks its thread.
function startBackend() {
  const dbPath = resolveDbPath(undefined, { ...process.env, LINGUASCOPE_DB: process.env.LINGUASCOPE_DB ?? join(app.getPath('userData'), 'linguascope.db') });
  return utilityProcess.fork(join(here, 'backend-utility.js'), [], { serviceName: 'LinguaScope backend', env: { ...process.env, LINGUASCOPE_DB: dbPath } });
}

function isAppFrame(url: string | undefined): boolean {
  return !!url && (url.startsWith('file://') || (!!rendererUrl && url.startsWith(rendererUrl)));
}

function createWindow(backend: Electron.UtilityProcess) {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'LinguaScope',
    webPreferences: { preload: join(here, '../preload/index.cjs'), contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true },
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
  else void win.loadFile(join(here, '../renderer/index.html'));
}

app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) =>
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } }),
  );
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));

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
