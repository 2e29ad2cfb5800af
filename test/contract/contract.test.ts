// The contract is served completely and exactly: the backend implements every backend method,
// the preload exposes exactly the contract's methods (plus `on` for events) and nothing else,
// and the Electron shell's window is locked down. Electron itself cannot run here, so its module
// is replaced by a recorder; the code under test is the real preload and the real shell.
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers/temp';
import { backendMethods, jobMethods, methods, shellMethods, backendContract } from '../../src/shared/contract';
import { createBackend } from '../../src/main/backend/backend';

const recorded = vi.hoisted(() => ({
  exposed: [] as [string, unknown][],
  windows: [] as Record<string, unknown>[],
  webContentsHandlers: new Map<string, (...args: unknown[]) => unknown>(),
  windowOpenHandler: null as null | ((details: unknown) => unknown),
  ipcHandlers: new Map<string, (...args: unknown[]) => unknown>(),
  headers: null as null | ((details: unknown, cb: (r: unknown) => void) => void),
  permission: null as null | ((wc: unknown, permission: string, cb: (ok: boolean) => void) => void),
  permissionCheck: null as null | ((...args: unknown[]) => boolean),
  schemes: [] as { scheme: string; privileges: Record<string, boolean> }[],
  protocolHandlers: new Map<string, (request: { url: string }) => Promise<Response> | Response>(),
  loaded: [] as string[],
  ready: null as null | Promise<void>,
}));

vi.mock('electron', () => {
  class BrowserWindow {
    webContents = {
      on: (event: string, handler: (...args: unknown[]) => unknown) => recorded.webContentsHandlers.set(event, handler),
      setWindowOpenHandler: (handler: (d: unknown) => unknown) => (recorded.windowOpenHandler = handler),
      postMessage: () => undefined,
    };
    constructor(options: Record<string, unknown>) {
      recorded.windows.push(options);
    }
    loadFile(file: string) {
      recorded.loaded.push(`file:${file}`);
      return Promise.resolve();
    }
    loadURL(url: string) {
      recorded.loaded.push(url);
      return Promise.resolve();
    }
    static getAllWindows() {
      return [];
    }
    static fromWebContents() {
      return null;
    }
  }
  recorded.ready = Promise.resolve();
  return {
    contextBridge: { exposeInMainWorld: (key: string, value: unknown) => recorded.exposed.push([key, value]) },
    ipcRenderer: { on: () => undefined, invoke: async () => ({ ok: true, value: { path: null } }) },
    app: { isPackaged: true, whenReady: () => recorded.ready, on: () => undefined, getPath: () => '/tmp/linguascope-contract', quit: () => undefined },
    protocol: {
      registerSchemesAsPrivileged: (schemes: typeof recorded.schemes) => recorded.schemes.push(...schemes),
      handle: (scheme: string, handler: (request: { url: string }) => Promise<Response> | Response) => recorded.protocolHandlers.set(scheme, handler),
    },
    net: { fetch: async (url: string) => new Response(`served ${url}`) },
    BrowserWindow,
    dialog: { showOpenDialog: async () => ({ canceled: true, filePaths: [] }) },
    ipcMain: { handle: (channel: string, handler: (...args: unknown[]) => unknown) => recorded.ipcHandlers.set(channel, handler) },
    MessageChannelMain: class {
      port1 = {};
      port2 = {};
    },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (handler: typeof recorded.headers) => (recorded.headers = handler) },
        setPermissionRequestHandler: (handler: typeof recorded.permission) => (recorded.permission = handler),
        setPermissionCheckHandler: (handler: typeof recorded.permissionCheck) => (recorded.permissionCheck = handler),
      },
    },
    utilityProcess: { fork: () => ({ postMessage: () => undefined, kill: () => undefined }) },
  };
});

function flatten(value: unknown, prefix = ''): string[] {
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) =>
    typeof v === 'function' ? [`${prefix}${key}`] : flatten(v, `${prefix}${key}.`),
  );
}

describe('API contract', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('has backend and shell methods that do not overlap, and job methods that take a jobId', () => {
    expect([...backendMethods, ...shellMethods].sort()).toEqual([...methods].sort());
    for (const m of jobMethods) expect(Object.keys((backendContract[m].input as unknown as { shape: object }).shape)).toContain('jobId');
  });

  it('the backend implements every backend method and nothing else', () => {
    const backend = createBackend({ dbPath: join(tmp.dir, 'contract.db') });
    try {
      expect(Object.keys(backend.handlers).sort()).toEqual([...backendMethods].sort());
    } finally {
      backend.close();
    }
  });
});

describe('preload', () => {
  beforeEach(() => {
    recorded.exposed.length = 0;
    vi.resetModules();
  });

  it("exposes exactly the contract's methods and `on` on window.api, nothing else", async () => {
    await import('../../src/preload/index');
    expect(recorded.exposed.map(([key]) => key)).toEqual(['api']);
    const api = recorded.exposed[0][1];
    expect(flatten(api).sort()).toEqual([...methods, 'on'].sort());
  });

  it('routes shell methods to the main process and rejects with plain {code, message} data', async () => {
    await import('../../src/preload/index');
    const api = recorded.exposed[0][1] as { dialog: { openFolder(a: unknown): Promise<unknown> } };
    await expect(api.dialog.openFolder({})).resolves.toEqual({ path: null });
  });
});

describe('Electron shell', () => {
  it('creates one locked-down window and validates shell IPC payloads', async () => {
    vi.resetModules();
    await import('../../src/main/app/index');
    await recorded.ready;
    await new Promise((r) => setTimeout(r, 0));
    expect(recorded.windows).toHaveLength(1);
    const prefs = recorded.windows[0].webPreferences as Record<string, unknown>;
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, devTools: false });
    // The page comes from app://linguascope/, served from the built renderer only.
    expect(recorded.loaded).toEqual(['app://linguascope/index.html']);
    expect(recorded.schemes).toEqual([{ scheme: 'app', privileges: expect.objectContaining({ standard: true, secure: true }) }]);
    const serve = recorded.protocolHandlers.get('app')!;
    const page = await serve({ url: 'app://linguascope/index.html' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toMatch(/^served file:\/\/.*[/\\]renderer[/\\]index\.html$/);
    for (const url of ['app://linguascope/../../../etc/passwd', 'app://linguascope/%ff', 'app://evil/index.html', 'app://linguascope/x.db']) {
      expect((await serve({ url })).status, url).toBe(404);
    }
    expect(String(prefs.preload)).toMatch(/preload[/\\]index\.cjs$/);

    expect(recorded.windowOpenHandler?.({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    const navigation = { preventDefault: vi.fn() };
    recorded.webContentsHandlers.get('will-navigate')?.(navigation, 'https://example.com');
    expect(navigation.preventDefault).toHaveBeenCalled();

    let headers: unknown;
    recorded.headers?.({ responseHeaders: {} }, (r) => (headers = r));
    expect(JSON.stringify(headers)).toContain("script-src 'self'");
    let granted: boolean | undefined;
    recorded.permission?.({}, 'media', (ok) => (granted = ok));
    expect(granted).toBe(false);
    expect(recorded.permissionCheck?.({}, 'clipboard-read', 'app://linguascope', {})).toBe(false);

    const shell = recorded.ipcHandlers.get('shell')!;
    const appFrame = { senderFrame: { url: 'app://linguascope/index.html' }, sender: {} };
    expect(await shell({ senderFrame: { url: 'file:///app/index.html' }, sender: {} }, 'dialog.openFolder', {})).toMatchObject({ ok: false });
    expect(await shell({ senderFrame: { url: 'https://evil.example' }, sender: {} }, 'dialog.openFolder', {})).toMatchObject({ ok: false });
    expect(await shell(appFrame, 'fs.readFile', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    expect(await shell(appFrame, 'dialog.openFolder', { title: 5 })).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(await shell(appFrame, 'dialog.openFolder', {})).toEqual({ ok: true, value: { path: null } });
  });
});
