// Hostile input against the real served-mode process (`out/main/cli.js serve`, built by `npx electron-vite
// build`): bad URLs, wrong Host/Origin/token, and every class of bad WebSocket message. After each
// class: (a) the typed answer, (b) the process is alive and serves a fresh client, (c) a long
// fertility job (50 languages) started by another client before the barrage is untouched, and at
// the end it completes with the same numbers a cached re-run reads back.
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { request } from 'node:http';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CorpusLanguage, DemoInfo, FertilityResult, Language } from '../../src/shared/dto';
import { CLI_JS, type HarnessProcess, RawClient, startHarnessProcess, upgradeStatus } from '../helpers/harness-process';
import { tempDir } from '../helpers/temp';

const PAPER = ['en', 'zh', 'ru', 'es', 'it', 'id', 'ca', 'mr', 'ml', 'hi'];
const MESSAGE_LIMIT = 16 * 1024 * 1024;

function httpGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Raw bytes on a TCP connection: what comes back before the server closes it. */
function rawTcp(port: number, bytes: string, destroyAfterWrite = false): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(bytes);
      if (destroyAfterWrite) {
        socket.destroy();
        resolve('');
      }
    });
    let got = '';
    socket.on('data', (d) => (got += d.toString()));
    socket.on('close', () => resolve(got));
    socket.on('error', () => resolve(got));
    setTimeout(() => socket.destroy(), 5_000);
  });
}

describe('the harness survives hostile input and answers each with a type', () => {
  const tmp = tempDir();
  let h: HarnessProcess;
  let apiUrl: string;
  let jobClient: RawClient;
  let client: RawClient;
  let demo: DemoInfo;
  let jobArg: { languages: string[] };
  let longJob: Promise<FertilityResult>;
  let jobSettled = false;
  let progressDuringBarrage = 0;
  let classesWhileJobRan = 0;

  beforeAll(async () => {
    h = await startHarnessProcess(join(tmp.dir, 'hostile.db'));
    apiUrl = `ws://127.0.0.1:${h.port}/api?token=${h.token}`;
    jobClient = await RawClient.open(apiUrl, h.origin);
    const info = await jobClient.call('demo.info', {});
    if (!info.ok) throw new Error(info.error.message);
    demo = info.value as DemoInfo;
    // Forty more UDHR languages make the job last about as long as the barrage.
    const corpus = await jobClient.call('corpus.languages', {});
    if (!corpus.ok) throw new Error(corpus.error.message);
    const added: string[] = [];
    for (const l of (corpus.value as CorpusLanguage[]).filter((c) => !c.registered)) {
      if (added.length === 40) break;
      const r = await jobClient.call('languages.add', { code: l.corpusCode });
      if (r.ok) added.push((r.value as Language).code);
    }
    jobArg = { languages: [...PAPER, ...added] };
    const firstProgress = jobClient.next((m) => m.kind === 'event' && m.name === 'progress' && (m.payload as { jobId?: string }).jobId === 'long', 150_000);
    longJob = jobClient.call('fertility.run', { ...jobArg, jobId: 'long' }, 600_000).then((r) => {
      jobSettled = true;
      if (!r.ok) throw new Error(`the long job failed: ${r.error.code} ${r.error.message}`);
      return r.value as FertilityResult;
    });
    longJob.catch(() => {});
    await Promise.race([firstProgress, longJob]);
    jobClient.ws.on('message', (data) => {
      if (String(data).includes('"jobId":"long"')) progressDuringBarrage += 1;
    });
    client = await RawClient.open(apiUrl, h.origin);
  }, 180_000);

  afterAll(async () => {
    client?.close();
    jobClient?.close();
    await h?.stop();
    tmp.cleanup();
  });

  /** (b) and (c): the process lives, a new client is served, the long job is untouched. */
  async function expectStillServing() {
    expect(h.alive()).toBe(true);
    if (!jobSettled) classesWhileJobRan += 1;
    const fresh = await RawClient.open(apiUrl, h.origin);
    const list = await fresh.call('languages.list', {});
    fresh.close();
    expect(list.ok && (list.value as { code: string }[]).map((l) => l.code).slice(0, PAPER.length)).toEqual(PAPER);
    expect(jobClient.closeCode).toBeUndefined();
    expect(h.stderr()).not.toMatch(/Uncaught|URIError|TypeError|RangeError|triggerUncaughtException/);
  }

  /** The next protocol-error on `c` after `send()`. */
  async function protocolErrorFor(c: RawClient, send: () => void) {
    const later = c.after();
    send();
    const m = await later.next((x) => x.kind === 'protocol-error' || x.kind === 'result');
    expect(m.kind).toBe('protocol-error');
    return (m as { error: { code: string; message: string } }).error;
  }

  it('the long job is running when the barrage starts', () => {
    expect(jobSettled).toBe(false);
  });

  it('bad URL encodings and traversal get 400/404 and never a file outside the build', async () => {
    for (const path of ['/%ff', '/%', '/%e0%a4', '/a%zz', '/%00', '/index.html%00.js']) {
      expect(await httpGet(h.port, path), path).toMatchObject({ status: 400 });
    }
    for (const path of ['/..%2f..%2fetc%2fpasswd', '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2f..%2fpackage.json', '/assets/', '/..\\..\\package.json', '/nope']) {
      const r = await httpGet(h.port, path);
      expect(r.status, path).toBe(404);
      expect(r.body).not.toMatch(/root:|"name": "linguascope"/);
    }
    expect((await httpGet(h.port, '/%ff?token=' + h.token)).status).toBe(400);
    await expectStillServing();
  });

  it('very long URLs get 404 or 431', async () => {
    expect((await httpGet(h.port, '/' + 'a'.repeat(10_000))).status).toBe(404);
    // Past Node's 16 KiB header limit the answer is 431, then the socket is closed; a client still
    // writing a huge head may see the reset first, so the 431 is looked for over a few tries.
    const statuses: (number | string)[] = [];
    for (let i = 0; i < 5 && !statuses.includes(431); i++) {
      statuses.push(await httpGet(h.port, '/' + 'a'.repeat(i % 2 ? 100_000 : 17_000)).then((r) => r.status, (e: NodeJS.ErrnoException) => e.code ?? 'error'));
    }
    expect(statuses).toContain(431);
    expect(statuses.every((x) => x === 431 || x === 'ECONNRESET' || x === 'EPIPE')).toBe(true);
    expect((await httpGet(h.port, '/?token=' + 'x'.repeat(12_000))).status).toBe(401);
    await expectStillServing();
  });

  it('a wrong Host header (DNS rebinding) gets 403 for the page and the API', async () => {
    for (const host of ['evil.example', `evil.example:${h.port}`, `127.0.0.1:${h.port + 1}`, `localhost.evil.example:${h.port}`, '[::1]']) {
      expect((await httpGet(h.port, `/?token=${h.token}`, { host })).status, host).toBe(403);
      expect(await upgradeStatus(apiUrl, { origin: h.origin, headers: { host } }), host).toBe(403);
    }
    expect((await httpGet(h.port, `/?token=${h.token}`, { host: `localhost:${h.port}` })).status).toBe(200);
    await expectStillServing();
  });

  it('a missing or wrong token gets 401 for the page and the API', async () => {
    const base = `ws://127.0.0.1:${h.port}/api`;
    const wrong = [...h.token].map((c, i) => (i === 7 ? (c === 'a' ? 'b' : 'a') : c)).join('');
    for (const query of ['', '?token=', `?token=${wrong}`, `?token=${h.token.slice(0, -1)}`, `?token=${h.token}x`, `?token=${h.token.toUpperCase()}`, `?tok=${h.token}`]) {
      expect(await upgradeStatus(base + query, { origin: h.origin }), query).toBe(401);
      expect((await httpGet(h.port, '/' + query)).status, query).toBe(401);
    }
    const page = await httpGet(h.port, '/');
    expect(page.body).toContain('token');
    expect(page.body).not.toContain(h.token);
    await expectStillServing();
  });

  it('a wrong or missing Origin gets 403, a wrong path 404, a plain GET of /api 426', async () => {
    for (const origin of ['http://evil.example', `http://127.0.0.1:${h.port + 1}`, `https://127.0.0.1:${h.port}`, 'null']) {
      expect(await upgradeStatus(apiUrl, { origin }), origin).toBe(403);
    }
    expect(await upgradeStatus(apiUrl, {})).toBe(403);
    expect(await upgradeStatus(`ws://127.0.0.1:${h.port}/other?token=${h.token}`, { origin: h.origin })).toBe(404);
    expect(await upgradeStatus(`ws://127.0.0.1:${h.port}/%ff?token=${h.token}`, { origin: h.origin })).toBe(400);
    expect((await httpGet(h.port, `/api?token=${h.token}`)).status).toBe(426);
    // The Origin must be the page's own: http:// + the Host the request was sent to.
    expect(await upgradeStatus(apiUrl, { origin: `http://localhost:${h.port}` })).toBe(403);
    expect(await upgradeStatus(apiUrl, { origin: `http://localhost:${h.port}`, headers: { host: `localhost:${h.port}` } })).toBe(101);
    await expectStillServing();
  });

  it('raw TCP garbage and handshakes cut short are dropped without harm', async () => {
    expect(await rawTcp(h.port, 'GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    await rawTcp(h.port, `GET /api?token=${h.token} HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`, true);
    const noKey = await rawTcp(h.port, `GET /api?token=${h.token} HTTP/1.1\r\nHost: 127.0.0.1:${h.port}\r\nOrigin: ${h.origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`);
    expect(noKey).toMatch(/^HTTP\/1\.1 400/);
    await expectStillServing();
  });

  it('invalid UTF-8 text frames get a PROTOCOL_ERROR and the connection stays open', async () => {
    const frames = [
      [0x7b, 0xff, 0xfe, 0x7d], // bytes that never occur in UTF-8
      [0x22, 0xc0, 0xaf, 0x22], // overlong '/'
      [0x22, 0xed, 0xa0, 0x80, 0x22], // a UTF-16 surrogate encoded as UTF-8
      [0x22, 0xe2, 0x82], // a truncated sequence
    ];
    for (const bytes of frames) {
      const error = await protocolErrorFor(client, () => client.send(Buffer.from(bytes)));
      expect(error).toMatchObject({ code: 'PROTOCOL_ERROR' });
      expect(error.message).toContain('UTF-8');
    }
    expect((await client.call('languages.list', {})).ok).toBe(true);
    await expectStillServing();
  });

  it('binary frames get a PROTOCOL_ERROR', async () => {
    for (const bytes of [Buffer.from(JSON.stringify({ kind: 'call', id: 1, method: 'languages.list', arg: {} })), Buffer.alloc(0), Buffer.alloc(70_000, 7)]) {
      const error = await protocolErrorFor(client, () => client.send(bytes, true));
      expect(error.code).toBe('PROTOCOL_ERROR');
      expect(error.message).toContain('binary');
    }
    await expectStillServing();
  });

  it('malformed JSON and JSON that is not an object get a PROTOCOL_ERROR', async () => {
    for (const text of ['', '{', '{"kind":"call",', 'NaN', "{'kind':'call'}", 'undefined', '{"arg":{"id":1}', '\u0000']) {
      const error = await protocolErrorFor(client, () => client.send(text));
      expect(error.code, JSON.stringify(text)).toBe('PROTOCOL_ERROR');
      expect(error.message).toContain('not JSON');
    }
    // Cut short after its id: the pending call is answered, not left waiting.
    for (const [text, id] of [['{"kind":"call","id":4242,"method":"languages.list","arg":{', 4242], ['{"id":4243}}', 4243]] as const) {
      const later = client.after();
      client.send(text);
      expect(await later.next((m) => m.kind === 'result' || m.kind === 'protocol-error'), text).toMatchObject({ kind: 'result', id, ok: false, error: { code: 'PROTOCOL_ERROR' } });
    }
    for (const text of ['null', '42', '"languages.list"', '[]', '[{"kind":"call","id":1,"method":"languages.list","arg":{}}]', 'true']) {
      const error = await protocolErrorFor(client, () => client.send(text));
      expect(error.code, text).toBe('PROTOCOL_ERROR');
      expect(error.message).toContain('JSON object');
    }
    await expectStillServing();
  });

  it('envelopes without a readable id get a protocol-error; with one, a result carrying it', async () => {
    for (const envelope of [{ kind: 'call', method: 'languages.list', arg: {} }, { kind: 'call', id: 'seven', method: 'languages.list' }, { kind: 'call', id: 1.5, method: 'languages.list' }, { kind: 'call', id: null, method: 'languages.list' }, {}]) {
      const error = await protocolErrorFor(client, () => client.send(JSON.stringify(envelope)));
      expect(error.code, JSON.stringify(envelope)).toBe('PROTOCOL_ERROR');
      expect(error.message).toMatch(/"id"/);
    }
    let id = 5000;
    for (const envelope of [{ kind: 'call' }, { kind: 'call', method: 42 }, { kind: 'result', method: 'languages.list' }, { method: 'languages.list' }, { kind: 'event', name: 'progress' }]) {
      const later = client.after();
      const sent = { ...envelope, id: ++id };
      client.send(JSON.stringify(sent));
      const m = await later.next((x) => x.kind === 'result' || x.kind === 'protocol-error');
      expect(m, JSON.stringify(sent)).toMatchObject({ kind: 'result', id, ok: false, error: { code: 'PROTOCOL_ERROR' } });
    }
    await expectStillServing();
  });

  it('unknown methods get UNKNOWN_METHOD with the request id and a bounded message', async () => {
    for (const method of ['no.such', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'languages', 'languages.list.x', 'x'.repeat(200_000)]) {
      const r = await client.call(method, {});
      expect(r.ok, method.slice(0, 20)).toBe(false);
      if (r.ok) continue;
      expect(r.error.code).toBe('UNKNOWN_METHOD');
      expect(r.error.message.length).toBeLessThan(200);
    }
    const shell = await client.call('dialog.openFolder', {});
    expect(!shell.ok && shell.error.code).toBe('NOT_AVAILABLE');
    await expectStillServing();
  });

  it('contract-invalid arguments get INVALID_ARGUMENT with the request id', async () => {
    const cases: [string, unknown][] = [
      ['languages.setTier', { code: 'en', tier: 'bogus' }],
      ['languages.setTier', 'en'],
      ['languages.list', { extra: 1 }],
      ['languages.add', { code: 'x'.repeat(10_000) }],
      ['languages.add', { code: { $ne: 1 } }],
      ['model.activations', { model: 'm', out: 'o', layers: 'all' }],
      ['model.activations', { model: 'm', out: 'o', layers: 'all', tokenIds: [1.5] }],
      ['model.activations', { model: 'm', out: 'o', layers: 'all', tokenIds: [-1] }],
      ['jobs.cancel', { jobId: 'j'.repeat(65) }],
    ];
    for (const [method, arg] of cases) {
      const r = await client.call(method, arg);
      expect(r.ok, `${method} ${JSON.stringify(arg).slice(0, 60)}`).toBe(false);
      if (!r.ok) expect(r.error.code, method).toBe('INVALID_ARGUMENT');
    }
    // Nesting a million levels deep: parsed, then refused before any recursive validator or
    // structured clone (both would overflow the stack) sees it.
    for (const depth of [33, 1_000_000]) {
      const later = client.after();
      client.send(`{"kind":"call","id":${depth},"method":"corpus.preview","arg":{"languages":${'['.repeat(depth)}${']'.repeat(depth)}}}`);
      const m = await later.next((x) => x.kind === 'result' && x.id === depth);
      expect(m).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
      expect((m as { error: { message: string } }).error.message).toContain('deeper than 32');
    }
    await expectStillServing();
  });

  it('huge arrays get a limit error naming the field and the bound', async () => {
    const languages = await client.call('corpus.preview', { languages: Array(601).fill('en') });
    expect(languages).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(!languages.ok && languages.error.message).toMatch(/languages.*600/);
    const ids = await client.call('model.activations', { model: demo.model, out: join(tmp.dir, 'a.safetensors'), layers: 'all', tokenIds: Array(1_000_001).fill(1) });
    expect(!ids.ok && ids.error.message).toMatch(/tokenIds.*1000000/);
    // Contract-valid and 2.4 MB: refused by the model's context, not by a crash.
    const long = await client.call('model.activations', { model: demo.model, out: join(tmp.dir, 'b.safetensors'), layers: 'all', tokenIds: Array.from({ length: 600_000 }, (_, i) => i % 259) }, 120_000);
    expect(long).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT', details: { limit: 2048 } } });
    expect(!long.ok && long.error.message).toMatch(/600000 tokens.*2048/);
    await expectStillServing();
  });

  it('the largest contract-valid call passes the transport; a bigger message gets PAYLOAD_TOO_LARGE with its id and field', async () => {
    // 1,000,000 ids of 10 digits: about 11 MB, the contract's own bound, so the model answers.
    const biggest = await client.call('model.activations', { model: demo.model, out: join(tmp.dir, 'c.safetensors'), layers: 'all', tokenIds: Array(1_000_000).fill(2 ** 31) }, 120_000);
    expect(biggest).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    const head = '{"kind":"call","id":77,"method":"model.activations","arg":{"model":"m","out":"o","layers":"all","tokenIds":[';
    const over = head + '1234567,'.repeat(2_400_000) + '1]}}';
    expect(over.length).toBeGreaterThan(MESSAGE_LIMIT);
    const later = client.after();
    client.send(over);
    const r = await later.next((m) => m.kind === 'result' && m.id === 77);
    expect(r).toMatchObject({ ok: false, error: { code: 'PAYLOAD_TOO_LARGE', details: { limit: MESSAGE_LIMIT, field: 'tokenIds', bytes: over.length } } });
    expect(!('value' in r) && (r as { error: { message: string } }).error.message).toMatch(/model\.activations: .*16\.0 MiB.*arg\.tokenIds .*2400001 items/);
    const padded = await protocolErrorFor(client, () => client.send(' '.repeat(MESSAGE_LIMIT + 1)));
    expect(padded.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await client.call('languages.list', {})).ok).toBe(true);
    await expectStillServing();
  });

  it('a frame over the frame limit closes that connection with 1009 and nothing else', async () => {
    const victim = await RawClient.open(apiUrl, h.origin);
    victim.send(Buffer.alloc(2 * MESSAGE_LIMIT + 1, 0x20));
    expect(await victim.closed()).toBe(1009);
    expect(h.stderr()).toContain('serve: closed a connection');
    await expectStillServing();
  });

  it('a flood of junk is answered message by message', async () => {
    const flood = await RawClient.open(apiUrl, h.origin);
    for (let i = 0; i < 2000; i++) flood.send(i % 2 ? '{' : '[]');
    const check = await flood.call('languages.list', {});
    expect(check.ok).toBe(true);
    expect(flood.messages.filter((m) => m.kind === 'protocol-error')).toHaveLength(2000);
    flood.close();
    await expectStillServing();
  });

  it('a client that vanishes mid-call costs nobody else anything', async () => {
    for (let i = 0; i < 5; i++) {
      const gone = await RawClient.open(apiUrl, h.origin);
      gone.send(JSON.stringify({ kind: 'call', id: 1, method: 'corpus.preview', arg: { languages: PAPER } }));
      gone.send(JSON.stringify({ kind: 'call', id: 2, method: 'fertility.run', arg: { languages: ['en'], jobId: `gone-${i}` } }));
      gone.close();
    }
    await expectStillServing();
  });

  it('a second server on the same port says so in one line and leaves the first one serving', async () => {
    const second = spawnSync(process.execPath, [CLI_JS, 'serve', '--port', String(h.port), '--db', join(tmp.dir, 'second.db')], { encoding: 'utf8', timeout: 60_000 });
    expect(second.status).toBe(2);
    expect(second.stdout).toBe('');
    expect(second.stderr.trim()).toMatch(new RegExp(`^linguascope: port ${h.port} on 127\\.0\\.0\\.1 is in use \\(listen EADDRINUSE\\); choose another[^\\n]*$`));
    await expectStillServing();
  });

  it('the long job started before the barrage completes, and a cached re-run reads back the same numbers', async () => {
    const result = await longJob;
    expect(result.rows.map((r) => r.language)).toEqual(jobArg.languages);
    expect(result.computed).toHaveLength(jobArg.languages.length);
    expect(result.rows.every((r) => Number.isFinite(r.tokens_per_word) && r.tokens_per_word > 0)).toBe(true);
    expect(progressDuringBarrage).toBeGreaterThan(0);
    expect(classesWhileJobRan).toBeGreaterThan(0);
    console.log(`hostile classes sent while the long job ran: ${classesWhileJobRan} of 18 (${jobArg.languages.length} languages)`);
    const again = await jobClient.call('fertility.run', jobArg, 120_000);
    if (!again.ok) throw new Error(again.error.message);
    const cached = again.value as FertilityResult;
    expect(cached.computed).toEqual([]);
    expect(cached.rows).toEqual(result.rows);
    expect(h.alive()).toBe(true);
  }, 600_000);
});
