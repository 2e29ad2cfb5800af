"""What `linguascope translate` must print, made by transformers on the tiny opus-mt-style folders of
make_marian_fixtures.py (random MarianMTModel, SentencePiece models trained on UDHR text, saved as
model.safetensors and as pytorch_model.bin): for sentences in the paper's languages, with and
without a `>>xx<<` target token, MarianTokenizer's input ids, generate()'s output ids (greedy and
the folder's beam search) with the decoder start and padding removed, and the decoded text
(skip_special_tokens=True); and sacrebleu's corpus BLEU and chrF++ of those translations against
reference lines.

Run: /root/.venvs/ref/bin/python scripts/reference/make_translate_fixtures.py
"""
import json
import os

import sacrebleu
import torch
import transformers
from sacrebleu.metrics import BLEU, CHRF
from transformers import MarianMTModel, MarianTokenizer

ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
MODEL = os.path.join(ROOT, 'test', 'fixtures', 'marian', 'tiny-en-mul-safetensors')
OUT = os.path.join(ROOT, 'test', 'fixtures', 'translate')

TEXTS = [
    'All human beings are born free and equal in dignity and rights.',
    'Everyone has the right to life, liberty and security of person.',
    'No one shall be held in slavery.',
    'Whereas recognition of the inherent dignity',
    'Everyone has the right to education.',
    'Hello world',
]
REFERENCES = [
    'All people are born free and equal.',
    'Everyone has a right to life and liberty.',
    'Nobody shall be held in slavery.',
    'Whereas the inherent dignity is recognised',
    'Everyone has the right to an education.',
    'Hello, world!',
]


def run(model, tok, texts, num_beams):
    batch = tok(texts, return_tensors='pt', padding=True)
    with torch.no_grad():
        out = model.generate(**batch, num_beams=num_beams)
    rows = []
    for i, text in enumerate(texts):
        seq = out[i].tolist()[1:]
        while seq and seq[-1] == model.config.pad_token_id:
            seq.pop()
        ids = tok(text)['input_ids']
        rows.append({'source': text, 'source_ids': ids, 'ids': seq, 'text': tok.decode(seq, skip_special_tokens=True)})
    return rows


def main():
    os.makedirs(OUT, exist_ok=True)
    tok = MarianTokenizer.from_pretrained(MODEL)
    model = MarianMTModel.from_pretrained(MODEL).eval()
    cases = []
    for token in (None, '>>hin<<', '>>cmn_Hans<<'):
        texts = [f'{token} {t}' if token else t for t in TEXTS]
        for beams in (1, model.generation_config.num_beams):
            rows = run(model, tok, texts, beams)
            hyps = [r['text'] for r in rows]
            language = 'zh' if token == '>>cmn_Hans<<' else 'en'
            tokenize = 'zh' if language == 'zh' else '13a'
            cases.append({
                'target_token': token, 'beams': beams, 'language': language, 'texts': TEXTS, 'rows': rows,
                'bleu': BLEU(tokenize=tokenize).corpus_score(hyps, [REFERENCES]).score,
                'chrf_pp': CHRF(word_order=2).corpus_score(hyps, [REFERENCES]).score,
            })
    with open(os.path.join(OUT, 'references.txt'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(REFERENCES) + '\n')
    with open(os.path.join(OUT, 'texts.txt'), 'w', encoding='utf-8') as f:
        f.write('\n'.join(TEXTS) + '\n')
    with open(os.path.join(OUT, 'expected.json'), 'w', encoding='utf-8') as f:
        json.dump({'versions': {'transformers': transformers.__version__, 'torch': torch.__version__, 'sacrebleu': sacrebleu.__version__}, 'cases': cases}, f, ensure_ascii=False, indent=1)


if __name__ == '__main__':
    main()
