// Where each published layout puts a file's language and split, and which folders name ARC or MMLU.
import { describe, expect, it } from 'vitest';
import { arcOrMmluHint, locate } from './location';

describe('locate', () => {
  it.each([
    ['/d/m_arc/data/ml/test.jsonl', { language: 'ml', split: 'test', shard: null }],
    ['/d/m_hellaswag/data/zh/val.jsonl', { language: 'zh', split: 'val', shard: null }],
    ['/d/m_mmlu/data/pt-br/train.jsonl', { language: 'pt-BR', split: 'train', shard: null }],
    ['/d/m_arc/ml/test-00000-of-00002.parquet', { language: 'ml', split: 'test', shard: { group: '/d/m_arc/ml/test', index: 0 } }],
    ['/d/m_arc/ml/test-00001-of-00002.parquet', { language: 'ml', split: 'test', shard: { group: '/d/m_arc/ml/test', index: 1 } }],
    ['/d/m_arc/ml/validation/0003.parquet', { language: 'ml', split: 'validation', shard: { group: '/d/m_arc/ml/validation', index: 3 } }],
    ['/d/m_arc/ml_validation.json', { language: 'ml', split: 'validation', shard: null }],
    ['/d/m_mmlu/zh_Hans_dev.json', { language: 'zh-Hans', split: 'dev', shard: null }],
    ['/d/m_mmlu/ML_Test.json', { language: 'ml', split: 'test', shard: null }],
    ['/d/mc/ml.jsonl', { language: 'ml', split: 'test', shard: null }],
    ['/d/mc/zh-Hans.parquet', { language: 'zh-Hans', split: 'test', shard: null }],
  ])('%s', (path, expected) => {
    expect(locate(path)).toEqual(expected);
  });

  it.each([
    '/d/items.jsonl', // no language, no split
    '/d/data/test.jsonl', // "data" is no language code
    '/d/ml/answers.jsonl', // not a split name
    '/d/val/test.jsonl', // a split name is not read as a language
    '/d/m_arc/ml/test/notes.parquet', // not a shard number
    '/d/m_arc/expected.json',
    '/d/m_arc/ml_results.json',
    '/d/mc/foo.jsonl', // three letters, but no language
    '/d/okapi/vi.json', // a bare {lang}.json is other data (Okapi's instruction sets are named so)
  ])('%s has no language and split', (path) => {
    expect(locate(path)).toBeNull();
  });
});

describe('arcOrMmluHint', () => {
  it.each([
    ['/d/m_arc/ml_test.json', 'arc'],
    ['/home/u/.cache/huggingface/hub/datasets--alexandrainst--m_mmlu/snapshots/abc/data/ml/test.jsonl', 'mmlu'],
    ['/d/okapi_arc_challenge/ml/test-00000-of-00001.parquet', 'arc'],
    ['/d/ai2_arc/ARC-Challenge/en/test.jsonl', 'arc'],
    ['/d/MMLU/en/test.jsonl', 'mmlu'],
    ['/d/search/ml/test.jsonl', null], // "arc" inside a word is not ARC
    ['/d/arc_vs_mmlu/ml/test.jsonl', null], // a folder naming both says nothing
    ['/d/benchmarks/ml/test.jsonl', null],
  ])('%s -> %s', (path, hint) => {
    expect(arcOrMmluHint(path)).toBe(hint);
  });
});
