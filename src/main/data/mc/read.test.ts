// Every stored form of the Okapi benchmarks read against what lm-evaluation-harness's own Okapi code
// makes of the same files (test/fixtures/eval/readers/expected.json, written by
// scripts/reference/make_mc_reader_fixtures.py with lm_eval's process_docs): each doc's gold index
// and choices, in file order with the harness's doc ids, plus the file's sha256, language and split.
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../test/helpers/temp';
import { ApiError } from '../../../shared/errors';
import { readMcData } from './read';
import type { McTask } from './types';

const FIXTURES = resolve('test/fixtures/eval/readers');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as {
  files: Record<string, { gold: number; choices: string[]; query?: string }[]>;
};
const tmp = tempDir('mc-read-');
afterAll(() => tmp.cleanup());

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('read without an error');
}

/** The harness's preprocess (strip, " [title]" -> ". ", drop [..], "  " -> " ") leaves this text as is. */
const untouchedByPreprocess = (s: string) => s === s.trim() && !s.includes('[') && !s.includes('  ');

const CASES: [string, McTask, string, string, string][] = [
  ['alexandrainst/m_arc/data/ml/test.jsonl', 'arc', 'ml', 'test', 'jsonl'],
  ['alexandrainst/m_arc/data/ml/val.jsonl', 'arc', 'ml', 'val', 'jsonl'],
  ['alexandrainst/m_arc/data/en/test.jsonl', 'arc', 'en', 'test', 'jsonl'],
  ['alexandrainst/m_hellaswag/data/ml/val.jsonl', 'hellaswag', 'ml', 'val', 'jsonl'],
  ['alexandrainst/m_mmlu/data/ml/test.jsonl', 'mmlu', 'ml', 'test', 'jsonl'],
  ['okapi/m_arc/ml_test.json', 'arc', 'ml', 'test', 'okapi-json'],
  ['okapi/m_hellaswag/ml_validation.json', 'hellaswag', 'ml', 'validation', 'okapi-json'],
  ['okapi/m_mmlu/ml_test.json', 'mmlu', 'ml', 'test', 'okapi-json'],
  ['okapi/m_mmlu/ml_dev.json', 'mmlu', 'ml', 'dev', 'okapi-json'],
  ['parquet/m_arc/ml/test-00000-of-00001.parquet', 'arc', 'ml', 'test', 'parquet'],
  ['parquet/m_mmlu/ml/test-00000-of-00001.parquet', 'mmlu', 'ml', 'test', 'parquet'],
  ['parquet/m_hellaswag/ml/val/0000.parquet', 'hellaswag', 'ml', 'val', 'parquet'],
  ['parquet-gzip/m_mmlu/ml/test-00000-of-00001.parquet', 'mmlu', 'ml', 'test', 'parquet'],
  ['generic/data/ml/test.jsonl', 'mc', 'ml', 'test', 'jsonl'],
];

describe('each stored form reads as the harness reads it', () => {
  it('covers every file the reference script wrote an expectation for', () => {
    const covered = new Set([...CASES.map((c) => c[0]), 'parquet/m_hellaswag/ml/val/0001.parquet']);
    expect(Object.keys(expected.files).filter((f) => !covered.has(f))).toEqual([]);
  });

  it.each(CASES)('%s', async (rel, task, language, split, format) => {
    const path = join(FIXTURES, rel);
    const data = await readMcData(path);
    const docs = expected.files[rel];
    expect(data.items.map((i) => i.docId)).toEqual(docs.map((_, i) => i));
    expect(data.items.map((i) => i.gold)).toEqual(docs.map((d) => d.gold));
    expect(data.items.map((i) => i.choices.length)).toEqual(docs.map((d) => d.choices.length));
    data.items.forEach((item, i) => {
      expect(item).toMatchObject({ task, language, split, source: path });
      expect(item.gold).toBeLessThan(item.choices.length);
      // Raw texts are kept; where the harness's preprocess changes nothing they equal its choices.
      item.choices.forEach((c, j) => {
        if (untouchedByPreprocess(c)) expect(c).toBe(docs[i].choices[j]);
      });
      if (task === 'arc' && untouchedByPreprocess(item.question)) expect(`Question: ${item.question}\nAnswer:`).toBe(docs[i].query);
    });
    expect(data.files).toEqual([
      { path, sha256: createHash('sha256').update(readFileSync(path)).digest('hex'), format, task, language, split, rows: docs.length },
    ]);
  });

  it('keeps the raw row: brackets the harness strips, extra fields, parquet int64 labels as numbers', async () => {
    const hella = await readMcData(join(FIXTURES, 'alexandrainst/m_hellaswag/data/ml/val.jsonl'));
    expect(hella.items[2].choices[0]).toBe('[title] ഷൂസ് ധരിക്കുക.');
    expect(expected.files['alexandrainst/m_hellaswag/data/ml/val.jsonl'][2].choices[0]).not.toContain('[title]');
    expect(hella.items[1].question).toBe('Making a cake: A woman mixes flour in a bowl. She');
    expect(hella.items[1].raw).toMatchObject({ ctx_b: 'SHE', label: '0', ind: 9 });
    const generic = await readMcData(join(FIXTURES, 'generic/data/ml/test.jsonl'));
    expect(generic.items[1].raw.note).toBe('extra fields are kept');
    const shards = await readMcData(join(FIXTURES, 'parquet/m_hellaswag'));
    expect(shards.items.map((i) => i.raw.label)).toEqual([0, 0, 0, 1]);
  });

  it('gives ARC its fifth option only when option_e is filled', async () => {
    const arc = await readMcData(join(FIXTURES, 'alexandrainst/m_arc/data/ml/test.jsonl'));
    expect(arc.items.map((i) => i.choices.length)).toEqual([4, 5, 4, 4]);
    expect(arc.items[1].choices[4]).toBe('300°C');
  });
});

describe('folders', () => {
  it('walks data/*/ of every task, in path order, each split numbered from 0', async () => {
    const data = await readMcData(join(FIXTURES, 'alexandrainst'));
    expect(data.files.map((f) => [f.task, f.language, f.split, f.rows])).toEqual([
      ['arc', 'en', 'test', 2],
      ['arc', 'ml', 'test', 4],
      ['arc', 'ml', 'val', 2],
      ['hellaswag', 'ml', 'val', 4],
      ['mmlu', 'ml', 'test', 3],
    ]);
    expect(data.items.filter((i) => i.task === 'arc' && i.language === 'ml' && i.split === 'val').map((i) => i.docId)).toEqual([0, 1]);
  });

  it('filters by task, language (any spelling), split and limit', async () => {
    const data = await readMcData(join(FIXTURES, 'alexandrainst'), { task: 'arc', languages: ['ML'], splits: ['test'], limit: 3 });
    expect(data.items.map((i) => [i.task, i.language, i.split, i.docId])).toEqual([
      ['arc', 'ml', 'test', 0],
      ['arc', 'ml', 'test', 1],
      ['arc', 'ml', 'test', 2],
    ]);
    // The file is described whole: its hash and row count do not depend on the limit.
    expect(data.files).toHaveLength(1);
    expect(data.files[0].rows).toBe(4);
  });

  it('numbers parquet shards of one split on from the previous shard', async () => {
    const data = await readMcData(join(FIXTURES, 'parquet/m_hellaswag'));
    expect(data.items.map((i) => [i.docId, i.line, i.source.endsWith('0000.parquet') ? 0 : 1])).toEqual([
      [0, 1, 0],
      [1, 2, 0],
      [2, 3, 0],
      [3, 1, 1],
    ]);
    expect(data.items.map((i) => i.gold)).toEqual([
      ...expected.files['parquet/m_hellaswag/ml/val/0000.parquet'].map((d) => d.gold),
      ...expected.files['parquet/m_hellaswag/ml/val/0001.parquet'].map((d) => d.gold),
    ]);
    expect((await readMcData(join(FIXTURES, 'parquet/m_hellaswag'), { limit: 3 })).items.map((i) => i.docId)).toEqual([0, 1, 2]);
  });

  it('reads a Hugging Face cache snapshot through its links, each file once', async () => {
    const blobs = join(tmp.dir, 'hub/datasets--alexandrainst--m_mmlu/blobs');
    const snapshot = join(tmp.dir, 'hub/datasets--alexandrainst--m_mmlu/snapshots/abc/data/ml');
    mkdirSync(blobs, { recursive: true });
    mkdirSync(snapshot, { recursive: true });
    cpSync(join(FIXTURES, 'okapi/m_mmlu/ml_test.json'), join(blobs, '5d41402abc4b2a76'));
    symlinkSync(join(blobs, '5d41402abc4b2a76'), join(snapshot, 'test.jsonl'));
    // A second route to the same folder is not a second copy of the items.
    symlinkSync(snapshot, join(tmp.dir, 'hub/datasets--alexandrainst--m_mmlu/snapshots/abc/data/ml-again'));
    const data = await readMcData(join(tmp.dir, 'hub'));
    expect(data.files.map((f) => [f.task, f.language, f.split, f.format, f.rows])).toEqual([['mmlu', 'ml', 'test', 'okapi-json', 3]]);
  });

  it('tells four-option ARC from MMLU by the folder, or by the task asked for', async () => {
    const plain = join(tmp.dir, 'plain');
    mkdirSync(plain);
    cpSync(join(FIXTURES, 'okapi/m_arc/ml_test.json'), join(plain, 'ml_test.json'));
    const ambiguous = await failure(readMcData(join(plain, 'ml_test.json')));
    expect(ambiguous.code).toBe('INVALID_ARGUMENT');
    expect(ambiguous.message).toMatch(/ml_test\.json has rows that fit both ARC and MMLU.*say which with the task/);
    expect((await readMcData(plain, { task: 'arc' })).items.map((i) => i.task)).toEqual(['arc', 'arc']);
    expect((await readMcData(plain, { task: 'mmlu' })).items.map((i) => i.task)).toEqual(['mmlu', 'mmlu']);
    // The folder's word wins over no word, and a mismatch with the task asked for is named.
    const wrong = await failure(readMcData(join(FIXTURES, 'okapi/m_arc/ml_test.json'), { task: 'mmlu' }));
    expect(wrong.message).toMatch(/ml_test\.json holds arc items, not mmlu/);
  });
});
