// translate.run: texts through a user's local opus-mt folder (models/marian: tokenizer, encoder and
// KV-cached decoder in our engine, greedy or beam search as transformers' generate()), batched by
// length, with progress and cancellation, every finished batch cached in SQLite (key: the folder's
// files' sha256, the generation settings, the target-language token, the text), so a killed run
// resumes and a repeated one is instant. With reference translations, corpus BLEU and chrF++ as
// sacrebleu computes them, so a weak translation model is visible before it skews a disparity.
import { basename, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { ParsedInput } from '../../shared/contract';
import { ApiError } from '../../shared/errors';
import type { TranslateLine, TranslateResult } from '../../shared/translate';
import type { RuntimeHost } from '../engine/runtime-host';
import { bleuTokenizerFor, corpusBleu, corpusChrf } from '../eval/mt-metrics';
import { CORPUS_CODES, readRegularFile } from '../io/input-file';
import { checkOutputFile, writeOutputFile } from '../io/output';
import { effectiveMaxLength, generate, generatedIds } from '../models/marian/generate';
import { MarianModel } from '../models/marian/model';
import { openOpusMtFolder, type OpusMtFolder } from '../models/marian/opus-folder';
import { checkMarianWeights } from '../models/marian/weights';
import type { FileHashRepo } from '../store/file-hash-repo';
import type { TranslationCacheRepo } from '../store/translation-cache-repo';
import { digest, hashFiles } from './fingerprints';
import type { JobContext } from './handler';

export type TranslateRequest = ParsedInput<'translate.run'>;

/** One line of input is one sentence or paragraph; a file of them is bounded like a corpus. */
const MAX_INPUT_BYTES = 64 * 2 ** 20;
const MAX_LINE_CHARS = 16_384;
const DEFAULT_BATCH = 8;

const KEYS = ['source', 'source_ids', 'text', 'ids'];

/** A translate output of ours: JSON lines with exactly the four fields (or an empty file). */
export function isOurTranslationFile(path: string): boolean {
  try {
    const head = readRegularFile(path, CORPUS_CODES, MAX_INPUT_BYTES * 4, 'translation file').subarray(0, 1 << 16).toString('utf8');
    if (head.trim() === '') return true;
    const first = JSON.parse(head.split('\n')[0]) as Record<string, unknown>;
    return Object.keys(first).sort().join() === [...KEYS].sort().join() && typeof first.source === 'string' && Array.isArray(first.ids);
  } catch {
    return false;
  }
}

function readLines(file: string, what: string): string[] {
  const bytes = readRegularFile(file, CORPUS_CODES, MAX_INPUT_BYTES, what);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError('INVALID_ARGUMENT', `${basename(file)} is not valid UTF-8 text`, { file });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new ApiError('INVALID_ARGUMENT', `${basename(file)} is empty: one text per line`, { file });
  return lines;
}

function checkTexts(texts: readonly string[], where: (i: number) => string): void {
  texts.forEach((t, i) => {
    if (t.trim() === '') throw new ApiError('INVALID_ARGUMENT', `${where(i)} is empty; one text per line, no blank lines`, { line: i + 1 });
    if (t.length > MAX_LINE_CHARS) throw new ApiError('INVALID_ARGUMENT', `${where(i)} is over ${MAX_LINE_CHARS} characters; translate sentences or paragraphs`, { line: i + 1, limit: MAX_LINE_CHARS });
  });
}

/** The files the model's fingerprint covers: config, generation config, tokenizer and weights. */
function fingerprintFiles(folder: OpusMtFolder): string[] {
  const side = ['config.json', 'generation_config.json', 'source.spm', 'target.spm', 'vocab.json'].map((f) => join(folder.path, f)).filter((f) => existsSync(f));
  return [...side, ...folder.weights.files];
}

export interface TranslateOptions {
  model: string;
  targetToken?: string;
  beams?: number;
  maxLength?: number;
  batch?: number;
}

export interface TranslatedTexts {
  lines: TranslateLine[];
  fingerprint: string;
  settings: TranslateResult['settings'];
  cached: number;
  seconds: number;
}

export class TranslateService {
  constructor(
    private readonly runtime: RuntimeHost,
    private readonly fileHashes: FileHashRepo,
    private readonly cache: TranslationCacheRepo,
  ) {}

  async run(request: TranslateRequest, ctx: JobContext): Promise<TranslateResult> {
    const texts = request.texts ?? (request.inFile !== undefined ? readLines(request.inFile, 'input file') : null);
    if (!texts) throw new ApiError('INVALID_ARGUMENT', 'give the texts to translate (texts, or inFile with one text per line)');
    checkTexts(texts, (i) => (request.inFile !== undefined ? `${basename(request.inFile)} line ${i + 1}` : `text ${i + 1}`));
    const references = request.references !== undefined ? readLines(request.references, 'references file') : null;
    if (references && references.length !== texts.length) {
      throw new ApiError('INVALID_ARGUMENT', `${basename(request.references!)} has ${references.length} lines for ${texts.length} texts; one reference translation per text, in order`, { file: request.references });
    }
    const outFile = request.outFile !== undefined ? checkOutputFile(request.outFile, isOurTranslationFile) : null;

    const { lines, fingerprint, settings, cached, seconds } = await this.translateTexts(
      { model: request.model, targetToken: request.targetToken, beams: request.beams, maxLength: request.maxLength, batch: request.batch },
      texts,
      ctx,
    );
    const language = request.language ?? (request.targetToken ? request.targetToken.replace(/^>>|<<$/g, '') : null);
    const metrics = references
      ? {
          references: request.references!,
          bleu: corpusBleu(lines.map((l) => l.text), references, bleuTokenizerFor(language ?? '')),
          chrfpp: corpusChrf(lines.map((l) => l.text), references),
        }
      : null;
    const out = outFile ? writeOutputFile(outFile, lines.map((l) => `${JSON.stringify(l)}\n`).join(''), isOurTranslationFile) : null;
    return {
      model: resolve(request.model),
      fingerprint,
      settings,
      count: texts.length,
      cached,
      seconds,
      lines: out ? lines.slice(0, 20) : lines,
      out,
      metrics,
    };
  }

  /** Translates `texts` (checked by the caller) with one opus-mt folder, through the cache. */
  async translateTexts(options: TranslateOptions, texts: readonly string[], ctx: JobContext): Promise<TranslatedTexts> {
    const folder = await openOpusMtFolder(options.model);
    const targetToken = options.targetToken ?? null;
    if (targetToken !== null && !folder.tokenizer.vocab.has(targetToken)) {
      throw new ApiError('INVALID_ARGUMENT', `${targetToken} is not a target-language token of ${basename(folder.path)}'s vocabulary (vocab.json); multi-target opus-mt models list theirs as >>xxx<<`, { token: targetToken });
    }
    const settings = { ...folder.generation, ...(options.beams !== undefined ? { numBeams: options.beams } : {}), ...(options.maxLength !== undefined ? { maxLength: options.maxLength, maxNewTokens: null } : {}) };
    const weights = checkMarianWeights(folder.config, folder.weights, folder.path);
    const hashes = await hashFiles(this.fileHashes, fingerprintFiles(folder), ctx);
    const fingerprint = digest(fingerprintFiles(folder).map((f) => `${basename(f)}:${hashes.get(f)}`));
    const settingsKey = JSON.stringify({ ...settings, targetToken });
    const keyOf = (text: string) => digest([fingerprint, settingsKey, text]);

    const sources = texts.map((t) => folder.tokenizer.encode(targetToken !== null ? `${targetToken} ${t}` : t).ids);
    for (const [i, ids] of sources.entries()) {
      if (ids.length > folder.config.maxPositions) {
        throw new ApiError('INVALID_ARGUMENT', `text ${i + 1} is ${ids.length} tokens, over the model's ${folder.config.maxPositions} positions`, { line: i + 1 });
      }
    }
    const cached = this.cache.getMany(texts.map(keyOf));
    const outputs = new Map<number, number[]>();
    texts.forEach((t, i) => {
      const hit = cached.get(keyOf(t));
      if (hit) outputs.set(i, hit);
    });
    const todo = texts.map((_, i) => i).filter((i) => !outputs.has(i));
    // Sorted by source length so a batch pads little; the output keeps the input order.
    todo.sort((a, b) => sources[a].length - sources[b].length || a - b);
    const batch = options.batch ?? DEFAULT_BATCH;
    const t0 = performance.now();
    if (todo.length) {
      const model = await MarianModel.load(folder.config, weights, {}, (m, o) => this.runtime.load(m, o, ctx.signal));
      try {
        for (let start = 0; start < todo.length; start += batch) {
          const rows = todo.slice(start, start + batch);
          ctx.progress('translating', start, todo.length);
          const out = await generate(model, rows.map((i) => sources[i]), settings, { signal: ctx.signal });
          const done = rows.map((i, r) => ({ i, ids: generatedIds(out.sequences[r], settings) }));
          for (const { i, ids } of done) outputs.set(i, ids);
          this.cache.putMany(done.map(({ i, ids }) => ({ key: keyOf(texts[i]), ids })));
        }
      } finally {
        await model.release();
      }
    }
    ctx.progress('translating', todo.length, todo.length);
    const lines: TranslateLine[] = texts.map((source, i) => {
      const ids = outputs.get(i)!;
      return { source, source_ids: sources[i], text: folder.tokenizer.decode(ids, { skipSpecialTokens: true }), ids };
    });
    return {
      lines,
      fingerprint,
      settings: { numBeams: settings.numBeams, maxLength: effectiveMaxLength(settings), lengthPenalty: settings.lengthPenalty, targetToken, batch },
      cached: texts.length - todo.length,
      seconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
    };
  }

}
