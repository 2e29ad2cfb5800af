// Translation quality against reference translations, computed as sacrebleu 2.x computes it with
// its defaults, so a user's figures can be put beside published ones:
//   BLEU   corpus-level: n-gram (1..4) matches clipped by the reference counts, summed over the
//          corpus; BP = exp(1 − r/c) when c < r; score = BP·exp(mean log pᵢ), pᵢ = 100·matchᵢ/totalᵢ,
//          an order with no match smoothed 'exp' (100 / (2ᵏ·totalᵢ), k counting such orders).
//          Tokenised by `13a` (mteval-v13a) or, for Chinese targets, `zh` (each CJK character a token).
//   chrF++ character n-grams 1..6 (whitespace removed) and word n-grams 1..2 (a word's leading or
//          trailing punctuation split off), statistics summed over the corpus, then the F-β (β = 2)
//          of the averaged precision and recall over the orders that occur (sacrebleu ≥ 2.0's
//          effective order).
// One reference per segment. Whitespace is Python's (str.split): the strings sacrebleu splits on.
// Checked against sacrebleu on fixtures (mt-metrics.test.ts).

/** Python's str.isspace() characters. */
const PY_SPACE = '\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const SPACES = new RegExp(`[${PY_SPACE}]+`, 'u');
const EDGE_SPACE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'gu');
const TRAILING_SPACE = new RegExp(`[${PY_SPACE}]+$`, 'u');

/** Python's `s.split()`. */
export function pySplit(text: string): string[] {
  return text.split(SPACES).filter((t) => t !== '');
}

// mteval-v13a's punctuation rules, applied in order over the whole line.
const RULES: [RegExp, string][] = [
  [/([{-~[-` -&(-+:-@/])/g, ' $1 '],
  [/([^0-9])([.,])/g, '$1 $2 '],
  [/([.,])([^0-9])/g, ' $1 $2'],
  [/([0-9])(-)/g, '$1 $2 '],
];

function regexpTokenize(line: string): string {
  let out = line;
  for (const [re, by] of RULES) out = out.replace(re, by);
  return pySplit(out).join(' ');
}

export function tokenize13a(line: string): string {
  let text = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (text.includes('&')) text = text.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  return regexpTokenize(` ${text} `);
}

/** sacrebleu's `zh` ranges as its comparisons of one character with range ends behave (its two
 * five-digit ends are a four-digit character plus a digit, so those ranges start one later). */
const ZH_RANGES: [number, number][] = [
  [0x3400, 0x4db5], [0x4e00, 0x9fa5], [0x9fa6, 0x9fbb], [0xf900, 0xfa2d], [0xfa30, 0xfa6a], [0xfa70, 0xfad9],
  [0x2001, 0x2a6d], [0x2f81, 0x2fa1], [0xff00, 0xffef], [0x2e80, 0x2eff], [0x3000, 0x303f], [0x31c0, 0x31ef],
  [0x2f00, 0x2fdf], [0x2ff0, 0x2fff], [0x3100, 0x312f], [0x31a0, 0x31bf], [0xfe10, 0xfe1f], [0xfe30, 0xfe4f],
  [0x2600, 0x26ff], [0x2700, 0x27bf], [0x3200, 0x32ff], [0x3300, 0x33ff],
];

export function tokenizeZh(line: string): string {
  let spaced = '';
  for (const ch of line.replace(EDGE_SPACE, '')) {
    const cp = ch.codePointAt(0)!;
    spaced += ZH_RANGES.some(([a, b]) => cp >= a && cp <= b) ? ` ${ch} ` : ch;
  }
  return regexpTokenize(spaced);
}

export const BLEU_TOKENIZERS = ['13a', 'zh'] as const;
export type BleuTokenizer = (typeof BLEU_TOKENIZERS)[number];

/** The tokenizer sacrebleu picks for a target language: `zh` for Chinese, else `13a`. */
export function bleuTokenizerFor(language: string): BleuTokenizer {
  return /^(zh|cmn|zho)([-_]|$)/i.test(language) ? 'zh' : '13a';
}

function ngramCounts(tokens: readonly string[], n: number, into: Map<string, number>): void {
  for (let i = 0; i + n <= tokens.length; i++) {
    // A separator no token holds (tokens have no whitespace; U+0001 never survives as one).
    const key = tokens.slice(i, i + n).join('\u0001');
    into.set(key, (into.get(key) ?? 0) + 1);
  }
}

export interface BleuScore {
  score: number;
  precisions: number[];
  bp: number;
  sysLen: number;
  refLen: number;
  tokenizer: BleuTokenizer;
}

const MAX_ORDER = 4;

export function corpusBleu(hypotheses: readonly string[], references: readonly string[], tokenizer: BleuTokenizer = '13a'): BleuScore {
  if (hypotheses.length !== references.length) throw new Error(`${hypotheses.length} hypotheses for ${references.length} references`);
  const tok = tokenizer === 'zh' ? tokenizeZh : tokenize13a;
  const correct = new Array<number>(MAX_ORDER).fill(0);
  const total = new Array<number>(MAX_ORDER).fill(0);
  let sysLen = 0;
  let refLen = 0;
  hypotheses.forEach((hyp, s) => {
    const h = pySplit(tok(hyp.replace(TRAILING_SPACE, '')));
    const r = pySplit(tok(references[s].replace(TRAILING_SPACE, '')));
    sysLen += h.length;
    refLen += r.length;
    for (let n = 1; n <= MAX_ORDER; n++) {
      const hc = new Map<string, number>();
      const rc = new Map<string, number>();
      ngramCounts(h, n, hc);
      ngramCounts(r, n, rc);
      for (const [g, c] of hc) {
        total[n - 1] += c;
        correct[n - 1] += Math.min(c, rc.get(g) ?? 0);
      }
    }
  });
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1;
  const precisions = new Array<number>(MAX_ORDER).fill(0);
  if (!correct.some((c) => c > 0)) return { score: 0, precisions, bp, sysLen, refLen, tokenizer };
  let smooth = 1;
  for (let n = 0; n < MAX_ORDER; n++) {
    if (total[n] === 0) break;
    if (correct[n] === 0) {
      smooth *= 2;
      precisions[n] = 100 / (smooth * total[n]);
    } else {
      precisions[n] = (100 * correct[n]) / total[n];
    }
  }
  // log(0) is sacrebleu's −9999999999: an order with no n-gram at all zeroes the score.
  const logs = precisions.map((p) => (p === 0 ? -9999999999 : Math.log(p)));
  return { score: bp * Math.exp(logs.reduce((a, b) => a + b, 0) / MAX_ORDER), precisions, bp, sysLen, refLen, tokenizer };
}

const CHAR_ORDER = 6;
const WORD_ORDER = 2;
const BETA = 2;
const PUNCT = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');

/** Words with one leading or trailing punctuation mark split off (trailing first), as chrF++ reads them. */
function chrfWords(text: string): string[] {
  const out: string[] = [];
  for (const w of pySplit(text)) {
    const chars = Array.from(w);
    if (chars.length === 1) out.push(w);
    else if (PUNCT.has(chars[chars.length - 1])) out.push(chars.slice(0, -1).join(''), chars[chars.length - 1]);
    else if (PUNCT.has(chars[0])) out.push(chars[0], chars.slice(1).join(''));
    else out.push(w);
  }
  return out;
}

function charNgrams(text: string, n: number): Map<string, number> {
  const chars = Array.from(pySplit(text).join(''));
  const m = new Map<string, number>();
  for (let i = 0; i + n <= chars.length; i++) {
    const g = chars.slice(i, i + n).join('');
    m.set(g, (m.get(g) ?? 0) + 1);
  }
  return m;
}

/** [hyp count, ref count, matches] for one order; the hypothesis count is 0 when the reference has none. */
function matchStats(hyp: Map<string, number>, ref: Map<string, number>): [number, number, number] {
  let h = 0;
  let match = 0;
  for (const [g, c] of hyp) {
    h += c;
    match += Math.min(c, ref.get(g) ?? 0);
  }
  let r = 0;
  for (const c of ref.values()) r += c;
  return [ref.size > 0 ? h : 0, r, match];
}

export interface ChrfScore {
  score: number;
  charOrder: number;
  wordOrder: number;
  beta: number;
}

export function corpusChrf(hypotheses: readonly string[], references: readonly string[], wordOrder = WORD_ORDER): ChrfScore {
  if (hypotheses.length !== references.length) throw new Error(`${hypotheses.length} hypotheses for ${references.length} references`);
  const orders = CHAR_ORDER + wordOrder;
  const stats = new Array<number>(3 * orders).fill(0);
  hypotheses.forEach((hyp, s) => {
    const ref = references[s];
    const per: [number, number, number][] = [];
    for (let n = 1; n <= CHAR_ORDER; n++) per.push(matchStats(charNgrams(hyp, n), charNgrams(ref, n)));
    const hw = chrfWords(hyp);
    const rw = chrfWords(ref);
    for (let n = 1; n <= wordOrder; n++) {
      const hc = new Map<string, number>();
      const rc = new Map<string, number>();
      ngramCounts(hw, n, hc);
      ngramCounts(rw, n, rc);
      per.push(matchStats(hc, rc));
    }
    per.forEach(([h, r, m], i) => {
      stats[3 * i] += h;
      stats[3 * i + 1] += r;
      stats[3 * i + 2] += m;
    });
  });
  const factor = BETA ** 2;
  let precision = 0;
  let recall = 0;
  let effective = 0;
  for (let i = 0; i < orders; i++) {
    const [h, r, m] = stats.slice(3 * i, 3 * i + 3);
    if (h > 0 && r > 0) {
      precision += m / h;
      recall += m / r;
      effective++;
    }
  }
  if (effective > 0) {
    precision /= effective;
    recall /= effective;
  }
  const score = precision + recall > 0 ? (100 * (1 + factor) * precision * recall) / (factor * precision + recall) : 0;
  return { score, charOrder: CHAR_ORDER, wordOrder, beta: BETA };
}
