"""Parallel-corpus files in the layouts LinguaScope imports, written by independent libraries:
FLORES+ parquet as the Hugging Face Hub serves it (openlanguagedata/flores_plus: one file per
language and split, columns id, iso_639_3, iso_15924, glottocode, text, url, domain, topic,
has_image, has_hyperlink, last_updated) written with pyarrow; a wide and a long CSV written with
Python's csv module (quoted commas, quotes and line breaks inside fields); and what Python's csv
reader reads back from them (expected.json), which the import must equal.

Run: /root/.venvs/ref/bin/python scripts/reference/make_parallel_fixtures.py
"""
import csv
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'parallel')

SENTENCES = {
    ('eng', 'Latn'): ['The cat sleeps.', 'Rain fell all night, and the river rose.', 'She said "hello".', 'Prices went up.'],
    ('hin', 'Deva'): ['बिल्ली सोती है।', 'रात भर बारिश हुई, और नदी बढ़ गई।', 'उसने "नमस्ते" कहा।', 'कीमतें बढ़ गईं।'],
    ('cmn', 'Hans'): ['猫在睡觉。', '雨下了一整夜，河水上涨了。', '她说"你好"。', '价格上涨了。'],
    ('cmn', 'Hant'): ['貓在睡覺。', '雨下了一整夜，河水上漲了。', '她說"你好"。', '價格上漲了。'],
    ('mal', 'Mlym'): ['പൂച്ച ഉറങ്ങുന്നു.', 'രാത്രി മുഴുവൻ മഴ പെയ്തു, പുഴ ഉയർന്നു.', 'അവൾ "ഹലോ" പറഞ്ഞു.', 'വില കൂടി.'],
}


def flores_plus():
    for split, offset in (('dev', 0), ('devtest', 2)):
        folder = os.path.join(OUT, 'flores_plus', split)
        os.makedirs(folder, exist_ok=True)
        for (lang, script), texts in SENTENCES.items():
            rows = texts[offset:offset + 2] if split == 'devtest' else texts[:3]
            table = pa.table({
                'id': pa.array(list(range(1, len(rows) + 1)), pa.int64()),
                'iso_639_3': [lang] * len(rows),
                'iso_15924': [script] * len(rows),
                'glottocode': ['xxxx1234'] * len(rows),
                'text': rows,
                'url': ['https://example.org/'] * len(rows),
                'domain': ['wikinews'] * len(rows),
                'topic': ['weather'] * len(rows),
                'has_image': pa.array([0] * len(rows), pa.int32()),
                'has_hyperlink': pa.array([0] * len(rows), pa.int32()),
                'last_updated': ['2.1'] * len(rows),
            })
            pq.write_table(table, os.path.join(folder, f'{lang}_{script}.parquet'))


def csvs():
    wide = os.path.join(OUT, 'wide.csv')
    with open(wide, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(['id', 'en', 'hi', 'ml'])
        for i in range(4):
            w.writerow([f's{i + 1}', SENTENCES[('eng', 'Latn')][i], SENTENCES[('hin', 'Deva')][i], SENTENCES[('mal', 'Mlym')][i]])
        w.writerow(['s5', 'Two lines,\nwith a comma', 'दो पंक्तियाँ', ''])
    long = os.path.join(OUT, 'long.csv')
    with open(long, 'w', newline='', encoding='utf-8') as f:
        w = csv.writer(f)
        w.writerow(['segment', 'language', 'text'])
        for i in range(4):
            for code, key in (('en', ('eng', 'Latn')), ('hi', ('hin', 'Deva'))):
                w.writerow([f'p{i + 1}', code, SENTENCES[key][i]])
        w.writerow(['p5', 'en', 'only English'])
    expected = {}
    for name in ('wide.csv', 'long.csv'):
        with open(os.path.join(OUT, name), newline='', encoding='utf-8') as f:
            expected[name] = list(csv.reader(f))
    with open(os.path.join(OUT, 'expected.json'), 'w', encoding='utf-8') as f:
        json.dump({'csv': expected, 'flores_plus': {f'{l}_{s}': t for (l, s), t in SENTENCES.items()}}, f, ensure_ascii=False, indent=1)


if __name__ == '__main__':
    flores_plus()
    csvs()
