// The continuation task built from the bundled UDHR in the paper's ten languages, its held-out
// segments chosen by the fine-tune's own split (train/finetune-data.ts splitPairs): items parallel
// across languages, only held-out text, balanced gold positions, deterministic, read back by the
// evaluation's own reader (data/mc/read.ts); cuts checked against the paragraphs themselves;
// hostile paragraphs skipped in every language with a reason; bad arguments typed errors.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { ApiError } from '../../shared/errors';
import { DATA_DEFAULTS } from '../../shared/finetune';
import { splitPairs } from '../train/finetune-data';
import { alignDocuments } from './alignment';
import { cutParagraph, type ParagraphCut } from './continuation-cut';
import { buildContinuationTask, CONTINUATION_DEFAULTS, CONTINUATION_TASK_FILE, writeContinuationTask, type AlignedText, type ContinuationOptions, type ContinuationTask } from './continuation-task';
import { PAPER_LANGUAGES } from './languages';
import { readMcData } from './mc/read';
import { loadUdhr } from './udhr';

const tmp = tempDir('linguascope-continuation-');
afterAll(() => tmp.cleanup());

const CODES = PAPER_LANGUAGES.map((l) => l.code);
const alignment = alignDocuments(Object.fromEntries(PAPER_LANGUAGES.map((l) => [l.code, loadUdhr(l.corpusCode)])));
const UDHR: AlignedText[] = alignment.segments.map((s) => ({ key: s.key, text: Object.fromEntries(CODES.map((c) => [c, s.paragraphs[c].join('\n')])) }));

/** The held-out keys exactly as a fine-tune with this share and seed would hold them out. */
function heldOutBySplit(segments: readonly AlignedText[], share: number, seed: number): string[] {
  const tokenized = segments.map((s) => ({ key: s.key, tokens: Object.fromEntries(CODES.map((c) => [c, [2, 3]])) }));
  const split = splitPairs(tokenized, CODES.filter((c) => c !== 'en'), { ...DATA_DEFAULTS, heldOut: share, seed });
  return split.heldOut.map((i) => segments[i].key);
}

const HELD = heldOutBySplit(UDHR, 0.4, 7);
const build = (over: { segments?: AlignedText[]; held?: readonly string[]; languages?: readonly string[]; seed?: number; options?: ContinuationOptions } = {}) =>
  buildContinuationTask(over.segments ?? UDHR, over.held ?? HELD, over.languages ?? CODES, over.seed ?? 11, over.options);

function thrown(f: () => unknown): ApiError {
  try {
    f();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
}

const paragraph = (key: string, lang: string) => UDHR.find((s) => s.key === key)!.text[lang].trim();

describe('buildContinuationTask on the UDHR held-out segments', () => {
  const task = build();

  it('makes one item per usable held-out segment, parallel in every language', () => {
    expect(HELD.length).toBe(20);
    expect(task.languages).toEqual(CODES);
    expect(task.items.length).toBe(task.usable);
    expect(task.items.length).toBeGreaterThanOrEqual(15);
    for (const lang of CODES) {
      const rows = task.rows[lang];
      expect(rows.length).toBe(task.items.length);
      rows.forEach((row, i) => {
        const item = task.items[i];
        expect(row.segment).toBe(item.segment);
        expect(row.choice_segments).toEqual(item.choiceSegments);
        expect(row.gold).toBe(item.gold);
        expect(item.choiceSegments[item.gold]).toBe(item.segment);
        expect(new Set(item.choiceSegments).size).toBe(4);
        // The context opens the item's own paragraph; each choice ends its named segment's paragraph.
        expect(paragraph(item.segment, lang).startsWith(row.context)).toBe(true);
        row.choices.forEach((choice, j) => expect(paragraph(item.choiceSegments[j], lang).endsWith(choice), `${lang} item ${i} choice ${j}`).toBe(true));
        // The gold choice completes the context into its paragraph (modulo the cut whitespace).
        const whole = paragraph(item.segment, lang);
        const gap = whole.slice(row.context.length, whole.length - row.choices[row.gold].length);
        expect(gap).toMatch(/^\s*$/u);
      });
    }
  });

  it('never uses a segment that is not held out, as the item or as a distractor', () => {
    const held = new Set(HELD);
    for (const item of task.items) for (const s of item.choiceSegments) expect(held.has(s)).toBe(true);
    // Marked training texts: none of their words reaches any row.
    const marked = UDHR.map((s) => (held.has(s.key) ? s : { key: s.key, text: Object.fromEntries(CODES.map((c) => [c, `TRAINED ${s.key} ON this paragraph, which must never appear`])) }));
    const again = build({ segments: marked });
    expect(again.items).toEqual(task.items);
    for (const lang of CODES) expect(JSON.stringify(again.rows[lang])).not.toContain('TRAINED');
  });

  it('balances gold positions within one, for every choice count and seed', () => {
    for (const choices of [2, 3, 4, 5, 7]) {
      for (const seed of [0, 1, 99, 2 ** 31]) {
        const t = build({ seed, options: { choices } });
        expect(t.goldCounts.length).toBe(choices);
        expect(t.goldCounts.reduce((a, b) => a + b, 0)).toBe(t.items.length);
        expect(Math.max(...t.goldCounts) - Math.min(...t.goldCounts)).toBeLessThanOrEqual(1);
        expect(t.goldCounts).toEqual(Array.from({ length: choices }, (_, p) => t.items.filter((i) => i.gold === p).length));
      }
    }
  });

  it('is deterministic for a seed, whatever order the held-out keys come in, and changes with the seed', () => {
    expect(build()).toEqual(task);
    expect(build({ held: [...HELD].reverse() })).toEqual(task);
    const other = build({ seed: 12 });
    expect(other.items.map((i) => i.segment)).toEqual(task.items.map((i) => i.segment));
    expect(other.items.map((i) => i.choiceSegments.join())).not.toEqual(task.items.map((i) => i.choiceSegments.join()));
  });

  it('writes a folder the evaluation reader reads back as task mc, the same items in every language', async () => {
    const dir = join(tmp.dir, 'task');
    const written = writeContinuationTask(dir, task);
    expect(written.items).toBe(task.items.length);
    expect(readdirSync(dir).sort()).toEqual(['.linguascope-output.json', CONTINUATION_TASK_FILE, 'data']);
    expect(readdirSync(join(dir, 'data')).sort()).toEqual([...CODES].sort());
    const data = await readMcData(dir);
    expect(new Set(data.items.map((i) => i.task))).toEqual(new Set(['mc']));
    for (const lang of CODES) {
      const items = data.items.filter((i) => i.language === lang);
      expect(items.length).toBe(task.items.length);
      items.forEach((it, i) => {
        expect(it.split).toBe('test');
        expect(it.docId).toBe(i);
        expect(it.question).toBe(task.rows[lang][i].context);
        expect(it.choices).toEqual(task.rows[lang][i].choices);
        expect(it.gold).toBe(task.items[i].gold);
      });
    }
    expect(data.files.map((f) => f.rows)).toEqual(CODES.map(() => task.items.length));
    // Byte for byte the same on a rebuild; the description names the items and the settings.
    const first = readFileSync(join(dir, 'data', 'hi', 'test.jsonl'));
    writeContinuationTask(dir, build());
    expect(readFileSync(join(dir, 'data', 'hi', 'test.jsonl')).equals(first)).toBe(true);
    const description = JSON.parse(readFileSync(join(dir, CONTINUATION_TASK_FILE), 'utf8'));
    expect(description).toMatchObject({ kind: 'continuation-task', task: 'mc', seed: 11, settings: CONTINUATION_DEFAULTS, languages: CODES, heldOut: task.heldOut, items: task.items });
    // One language asked of the reader: its items alone.
    expect((await readMcData(dir, { task: 'mc', languages: ['ml'] })).items.length).toBe(task.items.length);
  });

  it('keeps a seeded sample of maxItems, still parallel and balanced, distractors from every usable segment', () => {
    const t = build({ options: { maxItems: 5 } });
    expect(t.items.length).toBe(5);
    expect(t.skipped.filter((s) => s.reason.startsWith('over maxItems')).length).toBe(task.usable - 5);
    expect(Math.max(...t.goldCounts) - Math.min(...t.goldCounts)).toBeLessThanOrEqual(1);
    expect(build({ options: { maxItems: 5 } })).toEqual(t);
    for (const lang of CODES) expect(t.rows[lang].map((r) => r.segment)).toEqual(t.items.map((i) => i.segment));
  });
});

describe('cutParagraph', () => {
  const o = { minPartChars: CONTINUATION_DEFAULTS.minPartChars, maxChars: CONTINUATION_DEFAULTS.maxChars, window: CONTINUATION_DEFAULTS.window };

  it('cuts every UDHR paragraph of the ten languages into two non-empty parts that rebuild it', () => {
    for (const lang of CODES) {
      for (const s of UDHR) {
        const text = s.text[lang];
        const cut = cutParagraph(text, o);
        if ('reason' in cut) {
          // Only the long merged preamble is refused, and for its length.
          expect(cut.reason, `${lang} ${s.key}`).toMatch(/longer than 1200/);
          continue;
        }
        const c = cut as ParagraphCut;
        expect(c.context.length * c.continuation.length, `${lang} ${s.key}`).toBeGreaterThan(0);
        expect(c.context + c.gap + c.continuation).toBe(text.trim());
        expect(c.gap).toMatch(/^\s*$/u);
        const n = [...text.trim()].length;
        const at = [...c.context].length;
        expect(at / n).toBeGreaterThanOrEqual(0.25);
        expect(at / n).toBeLessThanOrEqual(0.75);
        // Never splits a character cluster nor strands trailing punctuation (the danda included).
        expect(c.continuation).not.toMatch(/^[\p{M}\u200c\u200d।॥.,;:!?，。、]/u);
        expect(c.context).not.toMatch(/[\s(]$/u);
        // Chinese is cut without whitespace, except at the newline between a merged section's paragraphs.
        if (lang === 'zh') expect(c.gap).toMatch(/^\n?$/);
        else expect(c.gap).not.toBe('');
      }
    }
  });

  it('cuts Hindi after the danda, not before it; Chinese after a comma; Malayalam between words', () => {
    const hi = cutParagraph('प्रत्येक व्यक्ति को शिक्षा का अधिकार है । शिक्षा कम से कम प्रारम्भिक अवस्थाओं में निःशुल्क होगी ।', o) as ParagraphCut;
    expect(hi).toMatchObject({ context: 'प्रत्येक व्यक्ति को शिक्षा का अधिकार है ।', gap: ' ', continuation: 'शिक्षा कम से कम प्रारम्भिक अवस्थाओं में निःशुल्क होगी ।', kind: 'clause' });
    const zh = cutParagraph('人人都有受教育的权利,教育应当免费,至少在初级和基本阶段应如此。', o) as ParagraphCut;
    expect(zh).toMatchObject({ context: '人人都有受教育的权利,教育应当免费,', gap: '', continuation: '至少在初级和基本阶段应如此。', kind: 'clause' });
    expect(cutParagraph('人人有权享有生命自由和人身安全', o)).toMatchObject({ gap: '', kind: 'character', context: '人人有权享有生', continuation: '命自由和人身安全' });
    const ml = cutParagraph('മനുഷ്യ സമുദായത്തിന്റെ ജന്മസിദ്ധമായ അന്തസ്സും സമാവകാശവും ലോകത്തില്‍ സ്വാതന്ത്ര്യം', o) as ParagraphCut;
    expect(ml.kind).toBe('word');
    expect(ml.context + ml.gap + ml.continuation).toBe('മനുഷ്യ സമുദായത്തിന്റെ ജന്മസിദ്ധമായ അന്തസ്സും സമാവകാശവും ലോകത്തില്‍ സ്വാതന്ത്ര്യം');
  });

  it('refuses hostile paragraphs with a reason, in bounded time', () => {
    const cases: [string, RegExp][] = [
      ['', /empty/],
      [' \n\t ', /empty/],
      ['a', /too short/],
      ['字', /too short/],
      ['ab cd', /too short/],
      ['!!! ??? ...', /too short/],
      [`Everyone has the right\u0000 to life and liberty.`, /control character U\+0000/],
      [`Everyone has the right \u001b[31m to life.`, /control character U\+001B/],
      [`Everyone has the right \ud800 to life and liberty.`, /lone surrogate/],
      ['word '.repeat(2_000_000), /longer than 1200/],
      ['字'.repeat(1201), /longer than 1200 characters \(1201\)/],
      ['Everyoneeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee has', /no clause, word or character boundary/],
    ];
    for (const [text, reason] of cases) {
      const started = performance.now();
      const cut = cutParagraph(text, o);
      expect('reason' in cut ? cut.reason : cut, JSON.stringify(text.slice(0, 30))).toMatch(reason);
      expect(performance.now() - started).toBeLessThan(500);
    }
  });
});

describe('hostile segments and bad arguments', () => {
  /** Eight usable segments in en, zh, hi plus hostile ones; held out: all. */
  function corpus(hostile: Record<string, string>): AlignedText[] {
    const good = UDHR.filter((s) => s.key.startsWith('article.') && s.key !== 'article.2').slice(0, 8).map((s) => ({ key: s.key, text: { en: s.text.en, zh: s.text.zh, hi: s.text.hi } }));
    const bad = Object.entries(hostile).map(([key, text]) => ({ key, text: { en: 'All human beings are born free and equal in dignity and rights.', zh: text, hi: 'सभी मनुष्यों को गौरव और अधिकारों के मामले में जन्मजात स्वतन्त्रता प्राप्त है ।' } }));
    return [...good, ...bad];
  }
  const langs = ['en', 'zh', 'hi'];

  it('skips an unusable paragraph in every language, naming the language and why', () => {
    const hostile = { empty: '', one: '字', nul: '人人\u0000有权享有生命、自由和人身安全。', huge: '字'.repeat(5_000_000) };
    const segments = corpus(hostile);
    const t = buildContinuationTask(segments, segments.map((s) => s.key), langs, 3);
    expect(t.items.length).toBe(8);
    expect(t.skipped).toEqual([
      { segment: 'empty', language: 'zh', reason: 'the zh paragraph is empty' },
      { segment: 'one', language: 'zh', reason: expect.stringMatching(/^the zh paragraph is too short to cut/) },
      { segment: 'nul', language: 'zh', reason: 'the zh paragraph holds the control character U+0000' },
      { segment: 'huge', language: 'zh', reason: 'the zh paragraph is longer than 1200 characters' },
    ]);
    for (const lang of langs) for (const row of t.rows[lang]) expect(Object.keys(hostile)).not.toContain(row.segment);
  });

  it('refuses too few usable held-out segments, naming what was skipped', () => {
    const segments = corpus({ empty: '', one: '字' });
    const four = [segments[0].key, segments[1].key, 'empty', 'one'];
    const e = thrown(() => buildContinuationTask(segments, four, langs, 3));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/at least 4 held-out segments usable in every language.*2 of 4 are \(empty: the zh paragraph is empty; one: the zh paragraph is too short/);
    expect(buildContinuationTask(segments, four, langs, 3, { choices: 2 }).items.length).toBe(2);
  });

  it('never puts two equal continuations in one item', () => {
    // t0 and t1 end with the same Chinese clause (the cut falls after the comma); the English differs.
    const zh = ['甲乙丙丁戊己庚,同样的后半句话在这里。', '子丑寅卯辰巳午,同样的后半句话在这里。', '东南西北上下左,右边还有别的话呢。', '春夏秋冬日月星,辰光照亮了大地。', '金木水火土山川,河流奔向了大海。', '一二三四五六七,八九十是数字啊。'];
    const segments = zh.map((text, i) => ({ key: `t${i}`, text: { en: `Sentence number ${i} begins here, and sentence ${i} ends there.`, zh: text } }));
    expect(cutParagraph(zh[0], { ...CONTINUATION_DEFAULTS })).toMatchObject({ continuation: '同样的后半句话在这里。' });
    for (let seed = 0; seed < 30; seed++) {
      const t = buildContinuationTask(segments, segments.map((s) => s.key), ['en', 'zh'], seed);
      for (const item of t.items) expect(item.choiceSegments.includes('t0') && item.choiceSegments.includes('t1')).toBe(false);
      for (const row of t.rows.zh) expect(new Set(row.choices).size).toBe(4);
    }
    // With four segments, two of them twins, no item has three distinct distractors.
    const e = thrown(() => buildContinuationTask(segments.slice(0, 4), ['t0', 't1', 't2', 't3'], ['en', 'zh'], 0));
    expect(e.message).toMatch(/0 of 4 have distinct continuations/);
  });

  it('refuses bad settings, keys and languages with typed errors', () => {
    const segments = corpus({});
    const keys = segments.map((s) => s.key);
    const refusals: [() => unknown, string, RegExp][] = [
      ...[1, 0, -4, 2.5, NaN, 17, '4' as unknown as number].map((choices) => [() => buildContinuationTask(segments, keys, langs, 1, { choices }), 'INVALID_ARGUMENT', /^choices must be a whole number in 2\.\.16/] as [() => unknown, string, RegExp]),
      [() => buildContinuationTask(segments, keys, langs, 1, { choices: 9 }), 'INVALID_ARGUMENT', /at least 9 held-out segments.*8 of 8 are/],
      [() => buildContinuationTask(segments, keys, langs, 1, { minPartChars: 0 }), 'INVALID_ARGUMENT', /minPartChars/],
      [() => buildContinuationTask(segments, keys, langs, 1, { maxChars: 10_001 }), 'INVALID_ARGUMENT', /maxChars/],
      [() => buildContinuationTask(segments, keys, langs, 1, { maxItems: 0 }), 'INVALID_ARGUMENT', /maxItems/],
      [() => buildContinuationTask(segments, keys, langs, 1, { window: [0.6, 0.9] }), 'INVALID_ARGUMENT', /window/],
      [() => buildContinuationTask(segments, keys, langs, 1, { window: [0.2] as unknown as [number, number] }), 'INVALID_ARGUMENT', /window/],
      [() => buildContinuationTask(segments, keys, langs, -1), 'INVALID_ARGUMENT', /seed/],
      [() => buildContinuationTask(segments, keys, langs, 1.5), 'INVALID_ARGUMENT', /seed/],
      [() => buildContinuationTask(segments, [...keys, 'article.99'], langs, 1), 'INVALID_ARGUMENT', /held-out segment "article\.99" is not among the 8 aligned segments/],
      [() => buildContinuationTask(segments, [keys[0], keys[0]], langs, 1), 'INVALID_ARGUMENT', /listed twice/],
      [() => buildContinuationTask([...segments, segments[0]], keys, langs, 1), 'INVALID_ARGUMENT', /appears twice/],
      [() => buildContinuationTask(segments, keys, [...langs, 'ml'], 1), 'LANGUAGE_NOT_IN_CORPUS', /held-out segment "article\.1\.1" has no ml text/],
      [() => buildContinuationTask(segments.map((s, i) => (i === 5 ? { ...s, text: { en: s.text.en, zh: s.text.zh } } : s)), keys, langs, 1), 'LANGUAGE_NOT_IN_CORPUS', /has no hi text/],
      [() => buildContinuationTask(segments.map((s, i) => (i === 5 ? { ...s, text: { ...s.text, hi: 7 as unknown as string } } : s)), keys, langs, 1), 'INVALID_ARGUMENT', /in hi is number, not text/],
      [() => buildContinuationTask(segments, keys, [], 1), 'INVALID_ARGUMENT', /at least one language/],
      [() => buildContinuationTask(segments, keys, ['en', 'EN'], 1), 'INVALID_ARGUMENT', /same language \(en\)/],
      [() => buildContinuationTask(segments, keys, ['../etc'], 1), 'INVALID_ARGUMENT', /is not a language code/],
      [() => buildContinuationTask(segments, keys, ['en', ''], 1), 'INVALID_ARGUMENT', /is not a language code/],
      [() => buildContinuationTask(segments, keys, ['dev'], 1), 'INVALID_ARGUMENT', /data\/dev\/test\.jsonl is not read as language dev/],
    ];
    for (const [f, code, message] of refusals) {
      const e = thrown(f);
      expect(e.code, e.message).toBe(code);
      expect(e.message).toMatch(message);
    }
  });

  it('refuses to write over a folder it did not write, or an inconsistent task, and leaves it as it was', () => {
    const segments = corpus({});
    const t = buildContinuationTask(segments, segments.map((s) => s.key), langs, 1);
    const foreign = join(tmp.dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    expect(thrown(() => writeContinuationTask(foreign, t)).code).toBe('OUTPUT_EXISTS');
    expect(readdirSync(foreign)).toEqual(['notes.txt']);
    const dir = join(tmp.dir, 'inconsistent');
    const broken: ContinuationTask = { ...t, rows: { ...t.rows, hi: t.rows.hi.map((r, i) => (i === 2 ? { ...r, gold: (r.gold + 1) % 4 } : r)) } };
    expect(thrown(() => writeContinuationTask(dir, broken)).message).toMatch(/hi row 2 does not match item 2/);
    expect(thrown(() => writeContinuationTask(dir, { ...t, rows: { ...t.rows, zh: t.rows.zh.slice(1) } })).message).toMatch(/7 zh rows for 8 items/);
    expect(thrown(() => writeContinuationTask(dir, { ...t, rows: { ...t.rows, en: t.rows.en.map((r) => ({ ...r, choices: [...r.choices.slice(0, 3), ' '] })) } })).code).toBe('INVALID_ARGUMENT');
    expect(() => readdirSync(dir)).toThrow();
  });
});
