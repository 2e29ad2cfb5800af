// Hostile and broken benchmark files, by class, in every stored form: each ends in a typed ApiError
// on one line naming the file (and line or row and field where there is one), never quoting the
// file's text (a canary string in every bad file must not reach a message), and none crashes.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../test/helpers/temp';
import { ApiError, type ErrorCode } from '../../../shared/errors';
import { MC_LIMITS } from './limits';
import { readMcData } from './read';
import type { McReadOptions } from './types';

const FIXTURES = resolve('test/fixtures/eval/readers');
const tmp = tempDir('mc-bad-');
afterAll(() => tmp.cleanup());
const CANARY = 'LEAK-CANARY-mc-7f3e';

let n = 0;
/** Writes `content` at `rel` inside a fresh folder; returns the file's path. */
function put(rel: string, content: string | Buffer): string {
  const path = join(tmp.dir, `case-${n++}`, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}
const jsonl = (...rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

const ARC = { id: 'x', instruction: `Q ${CANARY}`, option_a: `a ${CANARY}`, option_b: 'b', option_c: 'c', option_d: 'd', option_e: '', answer: 'A' };
const MMLU = { instruction: `Q ${CANARY}`, option_a: 'a', option_b: 'b', option_c: 'c', option_d: 'd', answer: 'B' };
const HELLA = { activity_label: 'L', ctx_a: `ctx ${CANARY}`, ctx_b: 'he', endings: ['a', 'b', 'c', 'd'], label: '2' };
const MC = { context: `c ${CANARY}`, choices: ['x', 'y', 'z'], gold: 1 };
const without = (row: Record<string, unknown>, field: string) => Object.fromEntries(Object.entries(row).filter(([k]) => k !== field));

async function failure(path: string, options: McReadOptions = {}): Promise<ApiError> {
  try {
    await readMcData(path, options);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return error;
  }
  throw new Error(`${path} was read`);
}

type Case = [string, () => string, ErrorCode, RegExp, McReadOptions?];

function check(cases: Case[]): void {
  it.each(cases)('%s', async (_name, setup, code, message, options) => {
    const error = await failure(setup(), options);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(CANARY.slice(0, 12));
    expect(error.message).not.toContain('\n');
  });
}

describe('a missing field names file, line and field', () => {
  check([
    ['arc JSONL, after blank lines', () => put('m_arc/data/ml/test.jsonl', jsonl(ARC, '', '  ', without(ARC, 'answer'))), 'INVALID_ARGUMENT', /^test\.jsonl line 4: field 'answer' is missing/],
    ['arc JSONL, first line', () => put('m_arc/data/ml/test.jsonl', jsonl(without(ARC, 'option_c'), ARC)), 'INVALID_ARGUMENT', /^test\.jsonl line 1: field 'option_c' is missing \(an m_arc/],
    ['mmlu JSONL', () => put('m_mmlu/data/ml/test.jsonl', jsonl(MMLU, without(MMLU, 'instruction'))), 'INVALID_ARGUMENT', /^test\.jsonl line 2: field 'instruction' is missing/],
    ['hellaswag JSONL', () => put('data/ml/val.jsonl', jsonl(HELLA, HELLA, without(HELLA, 'endings'))), 'INVALID_ARGUMENT', /^val\.jsonl line 3: field 'endings' is missing/],
    ['generic JSONL', () => put('data/ml/test.jsonl', jsonl(MC, without(MC, 'gold'))), 'INVALID_ARGUMENT', /^test\.jsonl line 2: field 'gold' is missing/],
    ['Okapi JSON item', () => put('m_mmlu/ml_test.json', JSON.stringify([MMLU, without(MMLU, 'option_d')])), 'INVALID_ARGUMENT', /^ml_test\.json item 2: field 'option_d' is missing/],
    ['a null where text belongs', () => put('data/ml/val.jsonl', jsonl({ ...HELLA, ctx_a: null })), 'INVALID_ARGUMENT', /^val\.jsonl line 1: field 'ctx_a' is null, not text/],
  ]);
});

describe('an answer outside the choices', () => {
  check([
    ['generic gold past the end', () => put('data/ml/test.jsonl', jsonl(MC, { ...MC, gold: 3 })), 'INVALID_ARGUMENT', /line 2: gold points at choice 3 \(0-based\), outside the 3 choices/],
    ['generic gold negative', () => put('data/ml/test.jsonl', jsonl({ ...MC, gold: -1 })), 'INVALID_ARGUMENT', /line 1: gold -1 is not a 0-based choice index/],
    ['generic gold fractional', () => put('data/ml/test.jsonl', jsonl({ ...MC, gold: 1.5 })), 'INVALID_ARGUMENT', /line 1: gold 1\.5 is not a 0-based choice index/],
    ['generic gold as text', () => put('data/ml/test.jsonl', jsonl({ ...MC, gold: '1' })), 'INVALID_ARGUMENT', /line 1: gold '1' is not a 0-based choice index/],
    ['hellaswag label past the endings', () => put('data/ml/val.jsonl', jsonl({ ...HELLA, label: '4' })), 'INVALID_ARGUMENT', /line 1: label points at choice 4 \(0-based\), outside the 4 choices/],
    ['hellaswag label not a number', () => put('data/ml/val.jsonl', jsonl({ ...HELLA, label: 'two' })), 'INVALID_ARGUMENT', /line 1: label 'two' is not a choice number/],
    ['arc answer E with option_e empty', () => put('m_arc/data/ml/test.jsonl', jsonl({ ...ARC, answer: 'E' })), 'INVALID_ARGUMENT', /line 1: answer points at choice 4 \(0-based\), outside the 4 choices/],
  ]);
});

describe('an answer letter outside A..E (A..D for MMLU)', () => {
  check([
    ['F', () => put('m_arc/data/ml/test.jsonl', jsonl({ ...ARC, answer: 'F' })), 'INVALID_ARGUMENT', /line 1: answer 'F' is not one of the letters A, B, C, D, E/],
    ['lower case', () => put('m_arc/data/ml/test.jsonl', jsonl({ ...ARC, answer: 'a' })), 'INVALID_ARGUMENT', /answer 'a' is not one of the letters/],
    ['a digit (ai2_arc style)', () => put('m_arc/data/ml/test.jsonl', jsonl({ ...ARC, answer: 1 })), 'INVALID_ARGUMENT', /answer 1 is not one of the letters/],
    ['text carrying a line', () => put('m_arc/data/ml/test.jsonl', jsonl({ ...ARC, answer: `A ${CANARY}` })), 'INVALID_ARGUMENT', /answer a value of \d+ characters is not one of the letters/],
    ['E in MMLU', () => put('m_mmlu/data/ml/test.jsonl', jsonl({ ...MMLU, answer: 'E' })), 'INVALID_ARGUMENT', /answer 'E' is not one of the letters A, B, C, D$/],
    ['a filled option_e in MMLU', () => put('m_mmlu/data/ml/test.jsonl', jsonl(MMLU, { ...MMLU, option_e: 'e' })), 'INVALID_ARGUMENT', /line 2: has a fifth option \(option_e\): an ARC row, not MMLU/],
  ]);
});

describe('an empty choice', () => {
  check([
    ['arc option_b empty', () => put('m_arc/data/ml/test.jsonl', jsonl({ ...ARC, option_b: '' })), 'INVALID_ARGUMENT', /line 1: field 'option_b' is empty/],
    ['mmlu option_c whitespace', () => put('m_mmlu/data/ml/test.jsonl', jsonl({ ...MMLU, option_c: ' \t ' })), 'INVALID_ARGUMENT', /line 1: field 'option_c' is empty/],
    ['hellaswag ending', () => put('data/ml/val.jsonl', jsonl({ ...HELLA, endings: ['a', '', 'c', 'd'] })), 'INVALID_ARGUMENT', /line 1: endings\[1\] is empty/],
    ['generic choice', () => put('data/ml/test.jsonl', jsonl({ ...MC, choices: ['x', ''] })), 'INVALID_ARGUMENT', /line 1: choices\[1\] is empty/],
    ['generic choice not text', () => put('data/ml/test.jsonl', jsonl({ ...MC, choices: ['x', 2] })), 'INVALID_ARGUMENT', /line 1: choices\[1\] is a number, not text/],
    ['one choice only', () => put('data/ml/test.jsonl', jsonl({ ...MC, choices: ['x'], gold: 0 })), 'INVALID_ARGUMENT', /line 1: field 'choices' has 1 choice; a multiple-choice item needs at least 2/],
    ['choices not a list', () => put('data/ml/test.jsonl', jsonl({ ...MC, choices: 'x' })), 'INVALID_ARGUMENT', /line 1: field 'choices' is a string, not a list of choices/],
  ]);
});

describe('files that are not what they claim', () => {
  check([
    ['not UTF-8 (Latin-1) JSONL', () => put('data/ml/test.jsonl', Buffer.concat([Buffer.from(jsonl(MC)), Buffer.from('{"context": "caf\xe9", "choices": ["a","b"], "gold": 0}\n', 'latin1')])), 'INVALID_ARGUMENT', /^test\.jsonl is not valid UTF-8 \(line 2\)/],
    ['not UTF-8 Okapi JSON', () => put('m_mmlu/ml_test.json', Buffer.from(`[{"instruction": "caf\xe9"}]`, 'latin1')), 'INVALID_ARGUMENT', /^ml_test\.json is not valid UTF-8/],
    ['UTF-16', () => put('data/ml/test.jsonl', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(jsonl(MC), 'utf16le')])), 'INVALID_ARGUMENT', /^test\.jsonl is UTF-16 text; save it as UTF-8/],
    ['binary bytes', () => put('data/ml/test.jsonl', Buffer.from([0x7b, 0x00, 0x01, 0x02, 0x0a])), 'INVALID_ARGUMENT', /^test\.jsonl line 1 holds a NUL byte/],
    ['neither JSON nor parquet', () => put('data/ml/test.jsonl', `context,choices,gold\n${CANARY},a,0\n`), 'INVALID_ARGUMENT', /^test\.jsonl is neither JSON lines, a JSON list of items nor a parquet file/],
    ['a line that is a list', () => put('data/ml/test.jsonl', jsonl(MC, [CANARY, 1])), 'INVALID_ARGUMENT', /^test\.jsonl line 2: holds a list, not an object/],
    ['a line that is a number', () => put('data/ml/test.jsonl', jsonl(MC, '42')), 'INVALID_ARGUMENT', /line 2: holds a number, not an object/],
    ['a line that is null', () => put('data/ml/test.jsonl', jsonl(MC, 'null')), 'INVALID_ARGUMENT', /line 2: holds null, not an object/],
    ['a line that is not JSON', () => put('data/ml/test.jsonl', jsonl(MC, `{"context": "${CANARY}`)), 'INVALID_ARGUMENT', /line 2: is not valid JSON \((cut short|at character \d+)\)/],
    ['a JSON array of lists', () => put('m_mmlu/ml_test.json', JSON.stringify([MMLU, [CANARY]])), 'INVALID_ARGUMENT', /^ml_test\.json item 2: is a list, not an object/],
    ['a JSON object, not a list', () => put('m_mmlu/ml_test.json', `[${JSON.stringify(MMLU)}`), 'INVALID_ARGUMENT', /^ml_test\.json is not valid JSON/],
    // Field names are named (short plain ones quoted), values never.
    ['fields of another dataset (JSONL)', () => put('data/ml/test.jsonl', jsonl({ text: CANARY, label: 1, source: CANARY })), 'INVALID_ARGUMENT', /^test\.jsonl line 1: fields match no multiple-choice format: it has fields 'text', 'label', 'source'; expected an m_arc/],
    ['a long field name is not quoted', () => put('data/ml/test.jsonl', jsonl({ [`${CANARY} ${'x'.repeat(50)}`]: 1 })), 'INVALID_ARGUMENT', /it has fields a value of \d+ characters/],
  ]);
});

describe('empty files', () => {
  check([
    ['zero bytes', () => put('data/ml/test.jsonl', ''), 'INVALID_ARGUMENT', /^test\.jsonl is empty/],
    ['only blank lines', () => put('data/ml/test.jsonl', '\n  \n\r\n'), 'INVALID_ARGUMENT', /^test\.jsonl is empty: no items/],
    ['only a BOM', () => put('data/ml/test.jsonl', '\ufeff'), 'INVALID_ARGUMENT', /^test\.jsonl is empty: no items/],
    ['an empty JSON list', () => put('m_mmlu/ml_test.json', '[]'), 'INVALID_ARGUMENT', /^ml_test\.json is empty: the list holds no items/],
  ]);
});

describe('bounded reading', () => {
  check([
    ['a 2 MB line', () => put('data/ml/test.jsonl', jsonl(MC, { ...MC, context: CANARY + 'x'.repeat(2 * 2 ** 20) })), 'INVALID_ARGUMENT', new RegExp(`^test\\.jsonl line 2 is over the ${MC_LIMITS.lineBytes}-byte limit for one item`)],
    ['a JSONL file over the bound (sparse)', () => {
      const path = put('data/ml/test.jsonl', jsonl(MC));
      truncateSync(path, MC_LIMITS.fileBytes + 1);
      return path;
    }, 'INVALID_ARGUMENT', new RegExp(`^test\\.jsonl is ${MC_LIMITS.fileBytes + 1} bytes, over the ${MC_LIMITS.fileBytes}-byte limit`)],
    ['a JSON array over the bound (sparse)', () => {
      const path = put('m_mmlu/ml_test.json', JSON.stringify([MMLU]));
      truncateSync(path, MC_LIMITS.wholeFileBytes + 1);
      return path;
    }, 'INVALID_ARGUMENT', new RegExp(`ml_test\\.json: is ${MC_LIMITS.wholeFileBytes + 1} bytes, over the ${MC_LIMITS.wholeFileBytes}-byte limit`)],
    ['a parquet file over the bound (sparse)', () => {
      const path = put('m_mmlu/ml/test-00000-of-00001.parquet', readFileSync(join(FIXTURES, 'parquet/m_mmlu/ml/test-00000-of-00001.parquet')));
      truncateSync(path, MC_LIMITS.wholeFileBytes + 1);
      return path;
    }, 'INVALID_ARGUMENT', /test-00000-of-00001\.parquet: is \d+ bytes, over the \d+-byte limit/],
  ]);
});

describe('parquet files', () => {
  const fixture = readFileSync(join(FIXTURES, 'parquet/m_mmlu/ml/test-00000-of-00001.parquet'));
  check([
    ['truncated', () => put('m_mmlu/ml/test-00000-of-00001.parquet', fixture.subarray(0, Math.floor(fixture.length / 2))), 'INVALID_ARGUMENT', /^test-00000-of-00001\.parquet is not a readable parquet file \(truncated or damaged/],
    ['cut to its magic number', () => put('m_mmlu/ml/test-00000-of-00001.parquet', Buffer.from('PAR1')), 'INVALID_ARGUMENT', /is not a readable parquet file/],
    ['garbage between intact ends', () => {
      const bad = Buffer.from(fixture);
      for (let i = 4; i < bad.length - 8; i++) bad[i] = (i * 131) & 0xff;
      return put('m_mmlu/ml/test-00000-of-00001.parquet', bad);
    }, 'INVALID_ARGUMENT', /is not a readable parquet file/],
    ['damaged row data with an intact footer', () => {
      const bad = Buffer.from(fixture);
      for (let i = 4; i < 200; i++) bad[i] = 0xff;
      return put('m_mmlu/ml/test-00000-of-00001.parquet', bad);
    }, 'INVALID_ARGUMENT', /is not a readable parquet file/],
    ['another dataset', () => join(FIXTURES, 'other-dataset/ml/train-00000-of-00001.parquet'), 'INVALID_ARGUMENT', /^train-00000-of-00001\.parquet columns match no multiple-choice format: it has columns 'text', 'label', 'source'/],
    ['a column short of m_mmlu', () => join(FIXTURES, 'parquet-missing-column/m_mmlu/ml/test-00000-of-00001.parquet'), 'INVALID_ARGUMENT', /^test-00000-of-00001\.parquet column 'answer' is missing \(an m_arc \/ m_mmlu row/],
    ['ZSTD compression', () => join(FIXTURES, 'parquet-zstd/m_mmlu/ml/test-00000-of-00001.parquet'), 'INVALID_ARGUMENT', /is compressed with ZSTD, which this reader does not decode/],
  ]);
});

describe('languages, splits, tasks and places', () => {
  check([
    ['a language with no file', () => join(FIXTURES, 'alexandrainst'), 'LANGUAGE_NOT_IN_CORPUS', /^alexandrainst has no file in language hi \(it has /, { languages: ['ml', 'hi'] }],
    ['a language missing for the task asked', () => join(FIXTURES, 'alexandrainst'), 'LANGUAGE_NOT_IN_CORPUS', /has no hellaswag file in language en/, { task: 'hellaswag', languages: ['en'] }],
    ['a split no file has', () => join(FIXTURES, 'alexandrainst'), 'INVALID_ARGUMENT', /has no file of split "dev" \(splits found: /, { splits: ['dev'] }],
    ['a task no file has', () => join(FIXTURES, 'okapi/m_hellaswag'), 'INVALID_ARGUMENT', /^m_hellaswag holds no mmlu file/, { task: 'mmlu' }],
    ['a single file of another task', () => join(FIXTURES, 'okapi/m_hellaswag/ml_validation.json'), 'INVALID_ARGUMENT', /ml_validation\.json holds hellaswag items, not arc/, { task: 'arc' }],
    ['a file that does not say its language', () => put('items.jsonl', jsonl(MC)), 'INVALID_ARGUMENT', /^items\.jsonl does not say its language and split: put it at data\/\{lang\}\/\{split\}\.jsonl/],
    ['a folder with no benchmark file', () => dirname(put('notes/readme.jsonl', jsonl(MC))), 'INVALID_ARGUMENT', /holds no benchmark file: expected data\/\{lang\}/],
    ['a missing path', () => join(tmp.dir, 'nowhere'), 'INVALID_ARGUMENT', /nowhere: no such file/],
    ['a bad language code', () => join(FIXTURES, 'alexandrainst'), 'INVALID_ARGUMENT', /is not a language code/, { languages: ['m l'] }],
    ['a limit of 0', () => join(FIXTURES, 'alexandrainst'), 'INVALID_ARGUMENT', /limit must be a whole number of items above 0/, { limit: 0 }],
    ['an unknown task', () => join(FIXTURES, 'alexandrainst'), 'INVALID_ARGUMENT', /unknown task "xnli"/, { task: 'xnli' as never }],
  ]);
});

describe('folder walks: duplicates and links', () => {
  check([
    ['the same split twice (JSONL and parquet)', () => {
      const root = join(tmp.dir, `case-${n++}`);
      cpSync(join(FIXTURES, 'alexandrainst/m_mmlu'), join(root, 'm_mmlu'), { recursive: true });
      cpSync(join(FIXTURES, 'parquet/m_mmlu'), join(root, 'hub/m_mmlu'), { recursive: true });
      return root;
    }, 'INVALID_ARGUMENT', /two files hold the mmlu ml test items: hub\/m_mmlu\/ml\/test-00000-of-00001\.parquet and m_mmlu\/data\/ml\/test\.jsonl; keep one/],
    ['a copy of a file under another folder', () => {
      const path = put('a/m_arc/data/ml/test.jsonl', jsonl(ARC));
      const root = dirname(dirname(dirname(dirname(dirname(path)))));
      mkdirSync(join(root, 'b/m_arc/data/ml'), { recursive: true });
      cpSync(path, join(root, 'b/m_arc/data/ml/test.jsonl'));
      return root;
    }, 'INVALID_ARGUMENT', /two files hold the arc ml test items: a\/m_arc\/data\/ml\/test\.jsonl and b\/m_arc\/data\/ml\/test\.jsonl/],
    ['a link that loops on itself', () => {
      const path = put('m_arc/data/ml/val.jsonl', jsonl(ARC));
      symlinkSync('test.jsonl', join(dirname(path), 'test.jsonl'));
      return dirname(dirname(dirname(path)));
    }, 'INVALID_ARGUMENT', /test\.jsonl is a symbolic link loop/],
    ['a link to nothing, named like data', () => {
      const path = put('m_arc/data/ml/val.jsonl', jsonl(ARC));
      symlinkSync('gone.jsonl', join(dirname(path), 'test.jsonl'));
      return dirname(dirname(dirname(path)));
    }, 'INVALID_ARGUMENT', /test\.jsonl is a symbolic link to nothing/],
    ['a named pipe named like data', () => {
      const path = put('m_arc/data/ml/val.jsonl', jsonl(ARC));
      expect(spawnSync('mkfifo', [join(dirname(path), 'test.jsonl')]).status).toBe(0);
      return dirname(dirname(dirname(path)));
    }, 'INVALID_ARGUMENT', /test\.jsonl: is a named pipe \(FIFO\), not a benchmark file/],
  ]);

  it('walks a folder linked to its own ancestor once, and ignores a dangling link that is not data', async () => {
    const path = put('m_arc/data/ml/test.jsonl', jsonl(ARC, ARC));
    const root = dirname(dirname(dirname(path)));
    symlinkSync(root, join(dirname(path), 'back-to-top'));
    symlinkSync('missing.md', join(dirname(path), 'README.md'));
    const data = await readMcData(root);
    expect(data.files.map((f) => [f.task, f.rows])).toEqual([['arc', 2]]);
    expect(data.items.map((i) => i.docId)).toEqual([0, 1]);
  });

  it('refuses a walk past the depth bound', async () => {
    const deep = put(`${Array.from({ length: MC_LIMITS.walkDepth + 2 }, (_, i) => `d${i}`).join('/')}/ml/test.jsonl`, jsonl(MC));
    const root = deep.slice(0, deep.indexOf('/d0/'));
    const error = await failure(root);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(new RegExp(`is over ${MC_LIMITS.walkDepth} folders below`));
  });
});
