"""Reference fixtures for `linguascope eval` (issue 14), made by the harnesses themselves.

Writes, under --out (default test/fixtures/eval):
  data/alexandrainst/data/{lang}/{train,val,test}.jsonl   m_arc / m_hellaswag / m_mmlu layout (one folder
                                                           per task: data/alexandrainst/{m_arc,...}/data/...)
  data/parquet/m_hellaswag/{lang}/val/0000.parquet          the same HellaSwag rows as Hugging Face parquet
  data/okapi/m_{arc,hellaswag,mmlu}/{lang}_{split}.json     the original Okapi release layout (JSON arrays)
  data/mc/{lang}.jsonl                                      generic {"context","choices","gold"}
  models/llama/                                             tiny random Llama from our CLI (+ a few BPE merges)
  reference/{model}/{preset}.jsonl and .summary.json        per item and choice: prompt, token ids,
                                                           log-likelihoods, acc, acc_norm (see README)

Presets:
  lm-eval-okapi   EleutherAI lm-evaluation-harness (pip lm-eval) with its own Okapi task configs
                  (okapi/arc_multilingual, hellaswag_multilingual, mmlu_multilingual), only the dataset
                  location overridden (plus acc_norm added to m_mmlu's metric list), 0-shot, `--model hf`.
  okapi-original  the Okapi authors' own harness fork (github nlp-uoregon/mlmm-evaluation, a 2023 fork of
                  lm-eval 0.3): its multilingual_{arc,hellaswag,mmlu} task classes, its evaluator (docs
                  shuffled by Random(42), few-shot drawn from the same generator) and its `hf-auto` model
                  (context and continuation tokenised separately, no special tokens). ARC and MMLU are run
                  3-shot instead of 25 to keep the fixture small; HellaSwag 0-shot as in the fork.

Usage (from the repository root):
  ~/.venvs/ref/bin/python scripts/reference/make_eval_fixtures.py --okapi-fork /path/to/mlmm-evaluation
"""

from __future__ import annotations

import argparse
import copy
import importlib.metadata as md
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

LANGS_ARC = ["ml", "es"]  # lm-eval has no arc_en / hellaswag_en among the Okapi tasks (English is ai2_arc)
LANGS_HS = ["ml", "es"]
LANGS_MMLU = ["ml", "es", "en"]
LANGS_MC = ["ml", "es"]
OKAPI_FEWSHOT = {"arc": 3, "hellaswag": 0, "mmlu": 3, "mc": 0}  # the fork's defaults are 25 / 0 / 25

# --------------------------------------------------------------------------------------------------
# Task data. Short invented texts; edge cases on purpose:
#  ARC: "[title]"/"[step]" brackets (lm-eval's preprocess applies to ARC too), a choice with leading and
#       trailing spaces, a 5th option, an empty option_e and an absent option_e.
#  HellaSwag: WikiHow brackets, empty ctx_b, ctx_b in mixed case (Python str.capitalize lowercases the
#       rest), a triple space (one pass of replace("  ", " ") leaves a double space), a label " 2" with a
#       leading space (the harness reads label.lstrip()), an ending with surrounding spaces.
#  MMLU: an instruction with surrounding spaces (.strip() in the prompt), an option with surrounding spaces
#       (kept verbatim in the prompt).
#  MC: a context ending with a space, one ending with a newline, choices with surrounding spaces.
# --------------------------------------------------------------------------------------------------


def _arc(i, q, opts, ans, e="__absent__"):
    row = {"id": i, "instruction": q, "option_a": opts[0], "option_b": opts[1], "option_c": opts[2],
           "option_d": opts[3]}
    if e != "__absent__":
        row["option_e"] = e
    row["answer"] = ans
    return row


ARC = {
    "ml": {
        "train": [
            _arc("ml-tr-0", "കാന്തം ആകർഷിക്കുന്ന ലോഹം ഏത്?", ["ഇരുമ്പ്", "മരം", "ഗ്ലാസ്", "കടലാസ്"], "A", ""),
            _arc("ml-tr-1", "മഴ ഉണ്ടാകുന്നത് എവിടെ നിന്നാണ്?", ["പാറകൾ", "മേഘങ്ങൾ", "മരങ്ങൾ", "നദികൾ"], "B", ""),
            _arc("ml-tr-2", "ചന്ദ്രൻ എന്തിനെ ചുറ്റുന്നു?", ["സൂര്യൻ", "ചൊവ്വ", "ഭൂമി", "നക്ഷത്രം"], "C", ""),
            _arc("ml-tr-3", "മത്സ്യം ശ്വസിക്കുന്നത് എന്ത് ഉപയോഗിച്ച്?", ["ചിറകുകൾ", "കാലുകൾ", "കൊമ്പുകൾ", "ചെകിളകൾ"], "D", ""),
        ],
        "val": [
            _arc("ml-va-0", "ശബ്ദം ഏറ്റവും വേഗത്തിൽ സഞ്ചരിക്കുന്നത് എവിടെ?", ["ഉരുക്ക്", "വായു", "ശൂന്യത", "വെള്ളം"], "A", ""),
            _arc("ml-va-1", "സസ്യങ്ങൾ പുറത്തുവിടുന്ന വാതകം?", ["ഹീലിയം", "ഓക്സിജൻ", "നിയോൺ", "ആർഗൺ"], "B", ""),
        ],
        "test": [
            _arc("ml-te-0", "ചെടികൾ ഭക്ഷണം ഉണ്ടാക്കാൻ എന്ത് ഉപയോഗിക്കുന്നു?", ["സൂര്യപ്രകാശം", "മണൽ", "ഇരുമ്പ്", "പ്ലാസ്റ്റിക്"], "A", ""),
            _arc("ml-te-1", "വെള്ളം തിളയ്ക്കുന്ന താപനില എത്ര? [title] ഭൗതികം", ["100 °C", "  0 °C ", "50 °C", "-10 °C"], "A", "200 °C"),
            _arc("ml-te-2", "ഭൂമി സൂര്യനെ ചുറ്റാൻ എത്ര സമയം എടുക്കും?", ["ഒരു ദിവസം", "ഒരു മാസം", "ഒരു വർഷം", "ഒരു മണിക്കൂർ"], "C"),
            _arc("ml-te-3", "ഏത് അവയവമാണ് രക്തം പമ്പ് ചെയ്യുന്നത്?", ["കരൾ", "ഹൃദയം", "ശ്വാസകോശം", "വൃക്ക"], "B", ""),
            _arc("ml-te-4", "മഞ്ഞ് ഉരുകുമ്പോൾ അത് എന്തായി മാറുന്നു?", ["നീരാവി", "കല്ല്", "വെള്ളം", "[step] മണ്ണ്"], "C", ""),
            _arc("ml-te-5", "ഏറ്റവും വലിയ ഗ്രഹം ഏതാണ്?", ["ചൊവ്വ", "ബുധൻ", "ശുക്രൻ", "വ്യാഴം"], "D", ""),
        ],
    },
    "es": {
        "train": [
            _arc("es-tr-0", "¿Qué metal atrae un imán?", ["hierro", "madera", "vidrio", "papel"], "A", ""),
            _arc("es-tr-1", "¿De dónde viene la lluvia?", ["de las rocas", "de las nubes", "de los árboles", "de los ríos"], "B", ""),
            _arc("es-tr-2", "¿Alrededor de qué gira la Luna?", ["el Sol", "Marte", "la Tierra", "una estrella"], "C", ""),
            _arc("es-tr-3", "¿Con qué respiran los peces?", ["alas", "patas", "cuernos", "branquias"], "D", ""),
        ],
        "val": [
            _arc("es-va-0", "¿Dónde viaja más rápido el sonido?", ["en el acero", "en el aire", "en el vacío", "en el agua"], "A", ""),
            _arc("es-va-1", "¿Qué gas liberan las plantas?", ["helio", "oxígeno", "neón", "argón"], "B", ""),
        ],
        "test": [
            _arc("es-te-0", "¿Qué necesitan las plantas para hacer la fotosíntesis?", ["luz solar", "arena", "hierro", "plástico"], "A", ""),
            _arc("es-te-1", "¿A qué temperatura hierve el agua al nivel del mar? [title] Física", ["100 °C", "  0 °C ", "50 °C", "-10 °C"], "A", "200 °C"),
            _arc("es-te-2", "¿Cuánto tarda la Tierra en dar una vuelta al Sol?", ["un día", "un mes", "un año", "una hora"], "C"),
            _arc("es-te-3", "¿Qué órgano bombea la sangre?", ["el hígado", "el corazón", "los pulmones", "el riñón"], "B", ""),
            _arc("es-te-4", "Cuando el hielo se derrite, se convierte en", ["vapor", "piedra", "agua", "[step] tierra"], "C", ""),
            _arc("es-te-5", "¿Cuál es el planeta más grande del sistema solar?", ["Marte", "Mercurio", "Venus", "Júpiter"], "D", ""),
        ],
    },
}


def _hs(ind, label_act, a, b, endings, label):
    return {"ind": ind, "activity_label": label_act, "ctx_a": a, "ctx_b": b,
            "ctx": (a + " " + b) if b else a, "endings": endings, "label": label}


HELLASWAG = {
    "ml": {"val": [
        _hs(0, "പാചകം", "ഒരു സ്ത്രീ അടുക്കളയിൽ അരി കഴുകുന്നു.", "അവൾ",
            ["അരി കലത്തിൽ ഇട്ട് വെള്ളം ഒഴിക്കുന്നു.", "കാർ ഓടിച്ച് പോകുന്നു.", "പുസ്തകം വായിക്കുന്നു.", "മരത്തിൽ കയറുന്നു."], "0"),
        _hs(1, "ക്രിക്കറ്റ്", "ഒരു കുട്ടി പന്ത് എറിയുന്നു.", "ബാറ്റ്സ്മാൻ",
            ["ഉറങ്ങാൻ പോകുന്നു.", "പന്ത് അടിച്ച് ഓടുന്നു.", "ചായ കുടിക്കുന്നു.", "പാട്ട് പാടുന്നു."], "1"),
        _hs(2, "വീട് വൃത്തിയാക്കൽ", "[header] നിലം എങ്ങനെ തുടയ്ക്കാം [title] ചൂൽ എടുക്കുക. [step] ആദ്യം പൊടി അടിച്ചുവാരുക.", "",
            ["[substeps] പിന്നെ നനഞ്ഞ തുണി കൊണ്ട് തുടയ്ക്കുക.", "കടലിൽ നീന്തുക.", "വിമാനം പറത്തുക.", "[title] ഉറങ്ങുക."], "0"),
        _hs(3, "നീന്തൽ", "ഒരാൾ കുളത്തിലേക്ക് ചാടുന്നു.", "അയാൾ",
            ["ആകാശത്തേക്ക് പറക്കുന്നു.", "ഒരു കേക്ക് ചുടുന്നു.", "വെള്ളത്തിൽ വേഗത്തിൽ നീന്തുന്നു.", "കത്ത് എഴുതുന്നു."], " 2"),
        _hs(4, "പൂന്തോട്ടം", "ഒരു മനുഷ്യൻ   ചെടികൾക്ക് വെള്ളം ഒഴിക്കുന്നു.", "പിന്നീട്",
            ["ചന്ദ്രനിലേക്ക് പോകുന്നു.", "ടിവി ഓഫാക്കുന്നു.", "ഒരു കാർ വാങ്ങുന്നു.", "അയാൾ  കളകൾ പറിക്കുന്നു."], "3"),
        _hs(5, "സംഗീതം", "ഒരു പെൺകുട്ടി വീണ വായിക്കുന്നു.", "പ്രേക്ഷകർ",
            [" കൈയടിക്കുന്നു. ", "നദിയിൽ മീൻ പിടിക്കുന്നു.", "റോഡ് പണിയുന്നു.", "മല കയറുന്നു."], "0"),
    ]},
    "es": {"val": [
        _hs(0, "Cocinar", "Una mujer lava el arroz en la cocina.", "luego ELLA",
            ["pone el arroz en una olla con agua.", "conduce un coche por la autopista.", "empieza a leer un libro.", "se sube a un árbol."], "0"),
        _hs(1, "Fútbol", "Un niño patea el balón hacia la portería.", "el portero",
            ["se va a dormir.", "salta y atrapa el balón.", "bebe un té.", "canta una canción."], "1"),
        _hs(2, "Limpiar la casa", "[header] Cómo fregar el suelo [title] Toma una escoba. [step] Primero barre el polvo.", "",
            ["[substeps] Después friega con un trapo húmedo.", "Nada en el mar.", "Pilota un avión.", "[title] Duerme."], "0"),
        _hs(3, "Natación", "Un hombre salta a la piscina.", "él",
            ["vuela hacia el cielo.", "hornea un pastel.", "nada rápidamente hasta el otro lado.", "escribe una carta."], " 2"),
        _hs(4, "Jardinería", "Un hombre   riega las plantas.", "después",
            ["va a la luna.", "apaga la televisión.", "compra un coche.", "arranca  las malas hierbas."], "3"),
        _hs(5, "Música", "Una chica toca la guitarra.", "ñoño, el PÚBLICO",
            [" aplaude con entusiasmo. ", "pesca en el río.", "construye una carretera.", "escala una montaña."], "0"),
    ]},
}


def _mm(i, q, opts, ans):
    return {"id": i, "instruction": q, "option_a": opts[0], "option_b": opts[1], "option_c": opts[2],
            "option_d": opts[3], "answer": ans}


MMLU = {
    "en": {
        "train": [
            _mm("en-tr-0", "What colour is the sky on a clear day?", ["Blue", "Green", "Red", "Black"], "A"),
            _mm("en-tr-1", "How many days are in a week?", ["5", "6", "7", "8"], "C"),
        ],
        "val": [
            _mm("en-va-0", "What is the capital of France?", ["Paris", "Rome", "Madrid", "Berlin"], "A"),
            _mm("en-va-1", "How many legs does a spider have?", ["6", "8", "10", "4"], "B"),
            _mm("en-va-2", "What is H2O?", ["Salt", "Water", "Sugar", "Air"], "B"),
            _mm("en-va-3", "Which planet is known as the red planet?", ["Venus", "Mars", "Saturn", "Neptune"], "B"),
            _mm("en-va-4", "What is 10 / 2?", ["2", "4", "5", "8"], "C"),
        ],
        "test": [
            _mm("en-te-0", "What is the chemical symbol for gold?", ["Ag", "Au", "Gd", "Go"], "B"),
            _mm("en-te-1", "  Which number is prime? ", ["21", "27", "29", "33"], "C"),
            _mm("en-te-2", "Who wrote 'Don Quixote'?", [" Miguel de Cervantes ", "William Shakespeare", "Leo Tolstoy", "Dante Alighieri"], "A"),
            _mm("en-te-3", "What is 7 × 8?", ["54", "56", "58", "64"], "B"),
            _mm("en-te-4", "Which gas makes up most of Earth's atmosphere?", ["Oxygen", "Carbon dioxide", "Argon", "Nitrogen"], "D"),
        ],
    },
    "es": {
        "train": [
            _mm("es-tr-0", "¿De qué color es el cielo en un día despejado?", ["Azul", "Verde", "Rojo", "Negro"], "A"),
            _mm("es-tr-1", "¿Cuántos días tiene una semana?", ["5", "6", "7", "8"], "C"),
        ],
        "val": [
            _mm("es-va-0", "¿Cuál es la capital de Francia?", ["París", "Roma", "Madrid", "Berlín"], "A"),
            _mm("es-va-1", "¿Cuántas patas tiene una araña?", ["6", "8", "10", "4"], "B"),
            _mm("es-va-2", "¿Qué es el H2O?", ["Sal", "Agua", "Azúcar", "Aire"], "B"),
            _mm("es-va-3", "¿Qué planeta se conoce como el planeta rojo?", ["Venus", "Marte", "Saturno", "Neptuno"], "B"),
            _mm("es-va-4", "¿Cuánto es 10 / 2?", ["2", "4", "5", "8"], "C"),
        ],
        "test": [
            _mm("es-te-0", "¿Cuál es el símbolo químico del oro?", ["Ag", "Au", "Gd", "Or"], "B"),
            _mm("es-te-1", "  ¿Qué número es primo? ", ["21", "27", "29", "33"], "C"),
            _mm("es-te-2", "¿Quién escribió «Don Quijote»?", [" Miguel de Cervantes ", "William Shakespeare", "León Tolstói", "Dante Alighieri"], "A"),
            _mm("es-te-3", "¿Cuánto es 7 × 8?", ["54", "56", "58", "64"], "B"),
            _mm("es-te-4", "¿Qué gas forma la mayor parte de la atmósfera terrestre?", ["Oxígeno", "Dióxido de carbono", "Argón", "Nitrógeno"], "D"),
        ],
    },
    "ml": {
        "train": [
            _mm("ml-tr-0", "തെളിഞ്ഞ ദിവസം ആകാശത്തിന്റെ നിറം?", ["നീല", "പച്ച", "ചുവപ്പ്", "കറുപ്പ്"], "A"),
            _mm("ml-tr-1", "ഒരാഴ്ചയിൽ എത്ര ദിവസം?", ["5", "6", "7", "8"], "C"),
        ],
        "val": [
            _mm("ml-va-0", "ഫ്രാൻസിന്റെ തലസ്ഥാനം ഏത്?", ["പാരീസ്", "റോം", "മാഡ്രിഡ്", "ബെർലിൻ"], "A"),
            _mm("ml-va-1", "ചിലന്തിക്ക് എത്ര കാലുകളുണ്ട്?", ["6", "8", "10", "4"], "B"),
            _mm("ml-va-2", "H2O എന്താണ്?", ["ഉപ്പ്", "വെള്ളം", "പഞ്ചസാര", "വായു"], "B"),
            _mm("ml-va-3", "ചുവന്ന ഗ്രഹം എന്നറിയപ്പെടുന്നത്?", ["ശുക്രൻ", "ചൊവ്വ", "ശനി", "നെപ്റ്റ്യൂൺ"], "B"),
            _mm("ml-va-4", "10 / 2 എത്ര?", ["2", "4", "5", "8"], "C"),
        ],
        "test": [
            _mm("ml-te-0", "സ്വർണ്ണത്തിന്റെ രാസ ചിഹ്നം എന്ത്?", ["Ag", "Au", "Gd", "Go"], "B"),
            _mm("ml-te-1", "  ഏത് സംഖ്യയാണ് അഭാജ്യം? ", ["21", "27", "29", "33"], "C"),
            _mm("ml-te-2", "'ഡോൺ ക്വിക്സോട്ട്' എഴുതിയത് ആര്?", [" മിഗ്വേൽ ഡി സെർവാന്റസ് ", "വില്യം ഷേക്സ്പിയർ", "ലിയോ ടോൾസ്റ്റോയ്", "ദാന്തെ"], "A"),
            _mm("ml-te-3", "7 × 8 എത്ര?", ["54", "56", "58", "64"], "B"),
            _mm("ml-te-4", "ഭൂമിയുടെ അന്തരീക്ഷത്തിൽ ഏറ്റവും കൂടുതലുള്ള വാതകം?", ["ഓക്സിജൻ", "കാർബൺ ഡൈ ഓക്സൈഡ്", "ആർഗൺ", "നൈട്രജൻ"], "D"),
        ],
    },
}

MC = {
    "es": [
        {"context": "La capital de España es ", "choices": ["Lisboa", "Madrid", "París"], "gold": 1},
        {"context": "Pregunta: ¿Cuántos lados tiene un triángulo?\nRespuesta:", "choices": [" cuatro ", "tres", "cinco"], "gold": 1},
        {"context": "El agua hierve a 100 grados.\n", "choices": ["Es falso.", "Es cierto."], "gold": 1},
        {"context": "Completa: el perro", "choices": ["maúlla", "muge", "ladra", "pía"], "gold": 2},
        {"context": "2 + 2 =", "choices": ["4", "22", "5"], "gold": 0},
        {"context": "El color del cielo despejado es", "choices": ["verde", "azul"], "gold": 1},
    ],
    "ml": [
        {"context": "ഇന്ത്യയുടെ തലസ്ഥാനം ", "choices": ["മുംബൈ", "ന്യൂഡൽഹി", "ചെന്നൈ"], "gold": 1},
        {"context": "ചോദ്യം: ഒരു ത്രികോണത്തിന് എത്ര വശങ്ങൾ?\nഉത്തരം:", "choices": [" നാല് ", "മൂന്ന്", "അഞ്ച്"], "gold": 1},
        {"context": "വെള്ളം 100 ഡിഗ്രിയിൽ തിളയ്ക്കുന്നു.\n", "choices": ["തെറ്റ്.", "ശരി."], "gold": 1},
        {"context": "പൂരിപ്പിക്കുക: പട്ടി", "choices": ["കരയുന്നു", "പറക്കുന്നു", "കുരയ്ക്കുന്നു", "നീന്തുന്നു"], "gold": 2},
        {"context": "2 + 2 =", "choices": ["4", "22", "5"], "gold": 0},
        {"context": "തെളിഞ്ഞ ആകാശത്തിന്റെ നിറം", "choices": ["പച്ച", "നീല"], "gold": 1},
    ],
}

# Byte-level BPE merges added to the CLI's tiny Llama tokenizer (which has none), so that joint vs separate
# encoding of context and continuation differs: ":Ġ" swallows the delimiter space after "Answer:", "sĠ" the
# space moved off a context ending in "s ", "ĠA".."ĠD" make " A" one token when encoded alone, and two
# Malayalam lead-byte pairs (U+0D00..U+0D7F is E0 B4/B5 xx in UTF-8).
LLAMA_MERGES = [(":", "Ġ"), ("s", "Ġ"), ("Ġ", "d"), ("Ġ", "A"), ("Ġ", "B"), ("Ġ", "C"), ("Ġ", "D"),
                ("à", "´"), ("à", "µ")]


def write_jsonl(path: Path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def write_json(path: Path, obj, indent=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=indent)
        f.write("\n")


def write_data(out: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    ax = out / "data" / "alexandrainst"
    ok = out / "data" / "okapi"
    for lang, splits in ARC.items():
        for split, rows in splits.items():
            write_jsonl(ax / "m_arc" / "data" / lang / f"{split}.jsonl", rows)
            okname = {"train": "train", "val": "validation", "test": "test"}[split]
            write_json(ok / "m_arc" / f"{lang}_{okname}.json", rows, indent=1)
    for lang, splits in HELLASWAG.items():
        rows = splits["val"]
        write_jsonl(ax / "m_hellaswag" / "data" / lang / "val.jsonl", rows)
        write_json(ok / "m_hellaswag" / f"{lang}_validation.json", rows, indent=1)
        pq_path = out / "data" / "parquet" / "m_hellaswag" / lang / "val" / "0000.parquet"
        pq_path.parent.mkdir(parents=True, exist_ok=True)
        # the columns of the JSONL (endings a list<string>), no index column, fixed writer settings
        table = pa.Table.from_pylist(rows)
        pq.write_table(table, pq_path, compression="snappy", use_dictionary=False, write_statistics=False)
    for lang, splits in MMLU.items():
        for split, rows in splits.items():
            write_jsonl(ax / "m_mmlu" / "data" / lang / f"{split}.jsonl", rows)
            okname = {"train": "dev", "val": "validation", "test": "test"}[split]
            write_json(ok / "m_mmlu" / f"{lang}_{okname}.json", rows, indent=1)
    for lang, rows in MC.items():
        write_jsonl(out / "data" / "mc" / f"{lang}.jsonl", rows)


def ensure_llama(out: Path, repo: Path) -> Path:
    """The tiny random Llama of `linguascope make-random-model` (seed 0), with LLAMA_MERGES added."""
    d = out / "models" / "llama"
    if not (d / "model.safetensors").exists():
        subprocess.run(["node", str(repo / "bin" / "linguascope.js"), "make-random-model", "--arch", "llama",
                        "--preset", "tiny", "--dtype", "f32", "--out", str(d)], check=True, cwd=repo)
    tj = d / "tokenizer.json"
    tok = json.loads(tj.read_text(encoding="utf-8"))
    model = tok["model"]
    if not model.get("merges"):
        vocab = model["vocab"]
        nxt = max(vocab.values()) + 1
        for a, b in LLAMA_MERGES:
            vocab[a + b] = nxt
            nxt += 1
        model["merges"] = [f"{a} {b}" for a, b in LLAMA_MERGES]
        cfg = json.loads((d / "config.json").read_text())
        assert nxt <= cfg["vocab_size"], "merged tokens must fit in the model's vocabulary"
        tj.write_text(json.dumps(tok, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return d


# --------------------------------------------------------------------------------------------------
# Preset lm-eval-okapi: pip lm-eval, its Okapi task configs, local files.
# --------------------------------------------------------------------------------------------------

def lm_eval_task_specs(out: Path):
    """(task, lang, source file relative to out, task name, YAML text) for every run of this preset."""
    import lm_eval

    okapi = Path(lm_eval.__file__).parent / "tasks" / "okapi"
    ax = out / "data" / "alexandrainst"
    specs = []

    def files(d: dict) -> str:
        return "".join(f"    {k}: {json.dumps(str(v))}\n" for k, v in d.items())

    for lang in LANGS_ARC:
        base = ax / "m_arc" / "data" / lang
        yaml = (f"include: {json.dumps(str(okapi / 'arc_multilingual' / f'arc_{lang}.yaml'))}\n"
                f"task: ref_arc_{lang}\n"
                "dataset_path: json\ndataset_name: null\ndataset_kwargs:\n  data_files:\n"
                + files({"train": base / "train.jsonl", "validation": base / "val.jsonl",
                         "test": base / "test.jsonl"}))
        specs.append(("arc", lang, base / "test.jsonl", f"ref_arc_{lang}", yaml))
    for lang in LANGS_HS:
        for kind, path, fmt in (("jsonl", ax / "m_hellaswag" / "data" / lang / "val.jsonl", "json"),
                                ("parquet", out / "data" / "parquet" / "m_hellaswag" / lang / "val" / "0000.parquet",
                                 "parquet")):
            name = f"ref_hellaswag_{lang}_{kind}"
            yaml = (f"include: {json.dumps(str(okapi / 'hellaswag_multilingual' / f'hellaswag_{lang}.yaml'))}\n"
                    f"task: {name}\n"
                    f"dataset_path: {fmt}\ndataset_name: null\ndataset_kwargs:\n  data_files:\n"
                    + files({"val": path}))
            specs.append(("hellaswag", lang, path, name, yaml))
    for lang in LANGS_MMLU:
        base = ax / "m_mmlu" / "data" / lang
        yaml = (f"include: {json.dumps(str(okapi / 'mmlu_multilingual' / f'm_mmlu_{lang}.yaml'))}\n"
                f"task: ref_m_mmlu_{lang}\n"
                "dataset_path: json\ndataset_name: null\ndataset_kwargs:\n  data_files:\n"
                + files({"train": base / "train.jsonl", "validation": base / "val.jsonl",
                         "test": base / "test.jsonl"})
                # the harness's m_mmlu lists acc only; acc_norm added (per-item values for the fixture)
                + "metric_list:\n  - metric: acc\n    aggregation: mean\n    higher_is_better: true\n"
                  "  - metric: acc_norm\n    aggregation: mean\n    higher_is_better: true\n")
        specs.append(("mmlu", lang, base / "test.jsonl", f"ref_m_mmlu_{lang}", yaml))
    for lang in LANGS_MC:
        path = out / "data" / "mc" / f"{lang}.jsonl"
        # a plain ConfigurableTask: the harness's defaults (target_delimiter " ", fewshot_delimiter "\n\n")
        yaml = (f"task: ref_mc_{lang}\noutput_type: multiple_choice\n"
                "dataset_path: json\ndataset_name: null\ndataset_kwargs:\n  data_files:\n"
                + files({"test": path})
                + "test_split: test\ndoc_to_text: context\ndoc_to_choice: choices\ndoc_to_target: gold\n"
                  "metric_list:\n  - metric: acc\n    aggregation: mean\n    higher_is_better: true\n"
                  "  - metric: acc_norm\n    aggregation: mean\n    higher_is_better: true\n")
        specs.append(("mc", lang, path, f"ref_mc_{lang}", yaml))
    return specs


def run_lm_eval(model_dir: Path, out: Path, ref_dir: Path) -> None:
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    specs = lm_eval_task_specs(out)
    with tempfile.TemporaryDirectory() as td:
        yaml_dir = td
        for _, _, _, name, yaml in specs:
            Path(td, f"{name}.yaml").write_text(yaml, encoding="utf-8")
        lm = HFLM(pretrained=str(model_dir), dtype="float32", device="cpu", batch_size=1)
        tm = TaskManager(include_path=td)
        call = dict(model="<HFLM(pretrained=MODEL, dtype='float32', device='cpu', batch_size=1)>",
                    tasks=[s[3] for s in specs], task_manager="TaskManager(include_path=<the YAMLs below>)",
                    num_fewshot=None, log_samples=True)
        res = lm_eval.simple_evaluate(model=lm, tasks=[s[3] for s in specs], task_manager=tm,
                                      num_fewshot=None, log_samples=True)

    lines, summary = [], {"preset": "lm-eval-okapi", "tasks": {}}
    for task, lang, path, name, yaml in specs:
        samples = sorted(res["samples"][name], key=lambda s: s["doc_id"])
        for s in samples:
            args = s["arguments"]
            ctx = args[0][0]
            assert all(a[0] == ctx for a in args)
            conts = [a[1] for a in args]
            pairs = [lm._encode_pair(ctx, c) for c in conts]  # the harness's own tokenisation
            lls = [float(r[0]) for r in s["filtered_resps"]]
            greedy = [bool(r[1]) for r in s["filtered_resps"]]
            gold = s["target"]
            lines.append({
                "task": task, "language": lang, "source": str(path.relative_to(out)), "doc_id": s["doc_id"],
                "context": ctx, "continuations": conts,
                "context_ids": [p[0] for p in pairs], "continuation_ids": [p[1] for p in pairs],
                "loglikelihoods": lls, "is_greedy": greedy, "gold": gold_index(gold, conts),
                "acc": int(s["acc"]), "acc_norm": int(s["acc_norm"]),
            })
        r = res["results"][name]
        key = f"{task}/{lang}" + ("/parquet" if str(path).endswith(".parquet") else "")
        summary["tasks"][key] = {
            "task_name": name, "source": str(path.relative_to(out)),
            "acc": r["acc,none"], "acc_stderr": r["acc_stderr,none"],
            "acc_norm": r["acc_norm,none"], "acc_norm_stderr": r["acc_norm_stderr,none"],
            "n": res["n-samples"][name]["effective"],
            "yaml": yaml.replace(str(out), "<fixtures>").replace(
                str(Path(lm_eval.__file__).parent), "<site-packages>/lm_eval"),
            "resolved_config": scrub(res["configs"][name], out, yaml_dir),
        }
    summary["versions"] = versions()
    summary["call"] = ("lm_eval.simple_evaluate(" + ", ".join(f"{k}={v!r}" for k, v in call.items()) + ")")
    summary["notes"] = [
        "0-shot. contexts/continuations are the harness's request strings (continuation = ' ' + choice);",
        "context_ids/continuation_ids are HFLM._encode_pair(context, continuation) on the same HFLM object:",
        "trailing whitespace of the context moved to the continuation, both encoded together, "
        "continuation = tail beyond the context's own encoding; the tokenizer adds BOS.",
        "acc_norm divides by len(choice) in code points, the choice without the delimiter space.",
    ]
    write_outputs(ref_dir, "lm-eval-okapi", lines, summary)


def gold_index(gold, conts):
    if isinstance(gold, int):
        return gold
    if isinstance(gold, str) and gold.isdigit():
        return int(gold)
    # m_mmlu: the target is the letter; the harness takes its index among the choices
    letters = [c.strip() for c in conts]
    return letters.index(gold)


def scrub(obj, out: Path, yaml_dir: str):
    import lm_eval

    s = json.dumps(obj, ensure_ascii=False, default=str)
    s = s.replace(yaml_dir, "<task-yaml-dir>").replace(str(out), "<fixtures>")
    s = s.replace(str(Path(lm_eval.__file__).parent), "<site-packages>/lm_eval")
    s = re.sub(r" at 0x[0-9a-f]+>", ">", s)  # function reprs: no memory addresses in a committed file
    return json.loads(s)


def versions() -> dict:
    import torch
    import transformers

    v = {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__}
    for p in ("lm_eval", "datasets", "pyarrow", "tokenizers", "numpy"):
        try:
            v[p] = md.version(p)
        except md.PackageNotFoundError:
            pass
    return v


def write_outputs(ref_dir: Path, preset: str, lines, summary) -> None:
    ref_dir.mkdir(parents=True, exist_ok=True)
    with (ref_dir / f"{preset}.jsonl").open("w", encoding="utf-8") as f:
        for ln in lines:
            f.write(json.dumps(ln, ensure_ascii=False, separators=(",", ":")) + "\n")
    write_json(ref_dir / f"{preset}.summary.json", summary, indent=1)


# --------------------------------------------------------------------------------------------------
# Preset okapi-original: the Okapi authors' harness fork, run in a child process (its package is also
# called lm_eval).
# --------------------------------------------------------------------------------------------------

FORK_FILES = ["lm_eval/base.py", "lm_eval/evaluator.py", "lm_eval/metrics.py", "lm_eval/utils.py",
              "lm_eval/models/huggingface.py", "lm_eval/tasks/multilingual_arc.py",
              "lm_eval/tasks/multilingual_hellaswag.py", "lm_eval/tasks/multilingual_mmlu.py"]


def stage_fork(fork: Path, dest: Path) -> str:
    """Copy the fork's files we run into dest. Its lm_eval/{__init__,tasks/__init__,models/__init__}.py are
    replaced by minimal ones: the originals import every task and API model (openai, ...), none of which
    these three tasks use. Returns the fork's commit."""
    def show(path):
        r = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"], capture_output=True,
                           check=True)
        return r.stdout

    git_dir = fork / ".git" if (fork / ".git").exists() else fork
    commit = subprocess.run(["git", f"--git-dir={git_dir}", "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    for f in FORK_FILES:
        p = dest / f
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(show(f))
    (dest / "lm_eval" / "__init__.py").write_text("")
    (dest / "lm_eval" / "tasks" / "__init__.py").write_text("")
    (dest / "lm_eval" / "models" / "__init__.py").write_text("from . import huggingface\n")
    return commit


def run_okapi_original(model_dir: Path, out: Path, ref_dir: Path, fork: Path) -> None:
    with tempfile.TemporaryDirectory() as td:
        commit = stage_fork(fork, Path(td))
        res_path = Path(td) / "result.json"
        env = dict(os.environ, PYTHONPATH=td)
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--fork-worker", str(model_dir), str(out), str(res_path)],
                       check=True, env=env, cwd=td)
        res = json.loads(res_path.read_text(encoding="utf-8"))
    summary = res["summary"]
    summary["okapi_fork"] = {"repository": "https://github.com/nlp-uoregon/mlmm-evaluation", "commit": commit,
                             "files_run": FORK_FILES}
    summary["versions"] = versions()
    write_outputs(ref_dir, "okapi-original", res["lines"], summary)


def okapi_loader_records(task: str, rows):
    """The Okapi release JSON rows as the fork's task classes read them. The fork's datasets/m_* loading
    scripts are not in its repository; the release files carry instruction/option_a..e/answer (ARC, MMLU)
    and the HellaSwag fields as-is, and the task classes read question/choices/answerKey (ARC),
    question/choices/answer (MMLU): mapped one to one, empty or absent options dropped."""
    recs = []
    for r in rows:
        if task == "arc":
            opts = [r.get(k) for k in ("option_a", "option_b", "option_c", "option_d", "option_e")]
            recs.append({"id": r["id"], "question": r["instruction"], "choices": [o for o in opts if o],
                         "answerKey": r["answer"]})
        elif task == "mmlu":
            recs.append({"question": r["instruction"],
                         "choices": [r["option_a"], r["option_b"], r["option_c"], r["option_d"]],
                         "answer": r["answer"]})
        else:
            recs.append(dict(r))
    return recs


def fork_worker(model_dir: Path, out: Path, res_path: Path) -> None:
    import random

    import torch
    import transformers
    import lm_eval as fork_pkg
    assert "site-packages" not in fork_pkg.__file__, fork_pkg.__file__
    import lm_eval.evaluator as evaluator
    import lm_eval.base as base
    from lm_eval.models.huggingface import AutoCausalLM
    from lm_eval.tasks import multilingual_arc, multilingual_hellaswag, multilingual_mmlu

    class LocalCausalLM(AutoCausalLM):
        # transformers 5 rejects the fork's load_in_8bit/offload kwargs; load plainly in float32 instead.
        def _create_auto_model(self, *, pretrained, torch_dtype=None, **_):
            return transformers.AutoModelForCausalLM.from_pretrained(pretrained, dtype=torch.float32)

    lm = LocalCausalLM(pretrained=str(model_dir), device="cpu", dtype="float32", batch_size=1)

    ok = out / "data" / "okapi"

    def load(task, name):
        return okapi_loader_records(task, json.loads((ok / name).read_text(encoding="utf-8")))

    class MC(base.MultipleChoiceTask):
        VERSION = 0

        def __init__(self, path):
            self.path = path
            self.NUM_FEW_SHOT = 0
            super().__init__()

        def download(self, *a, **k):
            rows = [json.loads(x) for x in self.path.read_text(encoding="utf-8").splitlines() if x.strip()]
            self.dataset = {"test": rows}

        def has_training_docs(self):
            return False

        def has_validation_docs(self):
            return False

        def has_test_docs(self):
            return True

        def test_docs(self):
            return map(lambda d: {"query": d["context"], "choices": d["choices"], "gold": d["gold"]},
                       self.dataset["test"])

        def doc_to_text(self, doc):
            return doc["query"]

    def make(task, lang):
        if task == "arc":
            cls = multilingual_arc.create_task(lang)
            splits = {"train": f"m_arc/{lang}_train.json", "validation": f"m_arc/{lang}_validation.json",
                      "test": f"m_arc/{lang}_test.json"}
            src = f"m_arc/{lang}_test.json"
        elif task == "hellaswag":
            cls = multilingual_hellaswag.create_task(lang)
            splits = {"validation": f"m_hellaswag/{lang}_validation.json"}
            src = f"m_hellaswag/{lang}_validation.json"
        else:
            cls = multilingual_mmlu.create_task(lang)
            splits = {"dev": f"m_mmlu/{lang}_dev.json", "validation": f"m_mmlu/{lang}_validation.json",
                      "test": f"m_mmlu/{lang}_test.json"}
            src = f"m_mmlu/{lang}_test.json"

        def download(self, *a, **k):  # replaces datasets.load_dataset('datasets/m_*', name) only
            self.dataset = {s: load(task, f) for s, f in splits.items()}

        cls.download = download
        t = cls()
        t.NUM_FEW_SHOT = OKAPI_FEWSHOT[task]
        return t, ok / src

    # the fork's LANGS lists omit en; create_task("en") builds English MMLU with the same class
    jobs = [("arc", l) for l in LANGS_ARC] + [("hellaswag", l) for l in LANGS_HS] + \
           [("mmlu", l) for l in LANGS_MMLU] + [("mc", l) for l in LANGS_MC]

    lines, summary = [], {"preset": "okapi-original", "tasks": {}, "num_fewshot": dict(OKAPI_FEWSHOT)}
    for task, lang in jobs:
        if task == "mc":
            t, src = MC(out / "data" / "mc" / f"{lang}.jsonl"), out / "data" / "mc" / f"{lang}.jsonl"
        else:
            t, src = make(task, lang)
        eval_docs = list(t.test_docs() if t.has_test_docs() else t.validation_docs())

        seen_ctx, seen_res, seen_reqs = [], [], []
        orig_ctx, orig_pr = t.fewshot_context, t.process_results

        def fewshot_context(doc, num_fewshot, provide_description=None, rnd=None, description=None,
                            _f=orig_ctx):
            c = _f(doc=doc, num_fewshot=num_fewshot, rnd=rnd, description=description)
            seen_ctx.append((doc, c))
            return c

        def process_results(doc, results, _f=orig_pr):
            m = _f(doc, results)
            seen_res.append((doc, list(results), m))
            return m

        t.fewshot_context, t.process_results = fewshot_context, process_results
        orig_llt = type(lm)._loglikelihood_tokens

        def llt(self, requests, disable_tqdm=False, override_bs=None):
            r = orig_llt(self, requests, disable_tqdm=disable_tqdm, override_bs=override_bs)
            seen_reqs.extend(zip(requests, r))
            return r

        type(lm)._loglikelihood_tokens = llt
        name = f"{task}_{lang}"
        results = evaluator.evaluate(lm=lm, task_dict={name: t}, limit=None)
        type(lm)._loglikelihood_tokens = orig_llt

        # requests are made per document in the evaluator's (shuffled) order, one per choice in order
        k = 0
        per_doc = []
        for doc, ctx in seen_ctx:
            n = len(doc["choices"])
            reqs = seen_reqs[k:k + n]
            k += n
            per_doc.append((doc, ctx, reqs))
        assert k == len(seen_reqs)
        metrics_by_pos = {}
        for (doc, lls, m) in seen_res:
            pos = next(i for i, (d, _, _) in enumerate(per_doc) if d is doc)
            metrics_by_pos[pos] = (lls, m)
        for pos, (doc, ctx, reqs) in enumerate(per_doc):
            matches = [i for i, d in enumerate(eval_docs) if d == doc]
            assert len(matches) == 1, "documents must be distinct to number them"
            lls, m = metrics_by_pos[pos]
            ((c0, _), _, _), _ = reqs[0]
            assert c0 == ctx
            lines.append({
                "task": task, "language": lang, "source": str(src.relative_to(out)), "doc_id": matches[0],
                "context": ctx, "continuations": [rq[0][0][1] for rq in reqs],
                "context_ids": [list(rq[0][1]) for rq in reqs], "continuation_ids": [list(rq[0][2]) for rq in reqs],
                "loglikelihoods": [float(x[1][0]) for x in reqs], "is_greedy": [bool(x[1][1]) for x in reqs],
                "gold": int(doc["gold"]), "acc": int(m["acc"]), "acc_norm": int(m["acc_norm"]),
                "eval_order": pos,
            })
            assert [float(x) for x in lls] == lines[-1]["loglikelihoods"]
        r = results["results"][name]
        summary["tasks"][f"{task}/{lang}"] = {
            "source": str(src.relative_to(out)), "acc": r["acc"], "acc_stderr": r["acc_stderr"],
            "acc_norm": r["acc_norm"], "acc_norm_stderr": r["acc_norm_stderr"], "n": len(per_doc),
            "num_fewshot": t.NUM_FEW_SHOT, "eval_split": "test" if t.has_test_docs() else "validation",
            "fork_task_class": type(t).__mro__[1].__name__,
        }
    lines.sort(key=lambda x: (jobs.index((x["task"], x["language"])), x["doc_id"]))
    summary["call"] = ("lm_eval.evaluator.evaluate(lm=AutoCausalLM(pretrained=MODEL, device='cpu', "
                       "dtype='float32', batch_size=1), task_dict={name: task}, limit=None), one task per call, "
                       "task.NUM_FEW_SHOT set to num_fewshot")
    summary["notes"] = [
        "The fork's evaluator shuffles the evaluated split with random.Random(42) and draws each document's "
        "few-shot examples from that same generator, in the shuffled order; eval_order is that position.",
        "ARC few-shot: rnd.sample(train docs, k). MMLU (no training docs): rnd.sample(validation docs, k+1), "
        "the evaluated doc removed if present, first k kept; its dev-split fewshot_examples is never called.",
        "Few-shot examples are doc_to_text(ex) + ' ' + gold choice text, joined and followed by '\\n\\n'.",
        "context_ids = tok_encode(context), continuation_ids = tok_encode(' ' + choice), each with "
        "add_special_tokens=False: no BOS, no whitespace moved between them.",
        "acc_norm divides by len(choice) in code points (the choice without the delimiter space).",
        "ARC and MMLU text is not preprocessed (no bracket stripping); HellaSwag goes through the fork's "
        "preprocess (same as lm-eval's).",
    ]
    write_json(res_path, {"lines": lines, "summary": summary})


def self_check(model_dir: Path, ref_dir: Path, preset: str) -> dict:
    """Independent of either harness: one plain HF forward per request over context_ids + continuation_ids
    must give the recorded log-likelihood, and acc / acc_norm must follow from the log-likelihoods and the
    choice lengths. Returns the smallest decision margins (how far the fixture is from a tie)."""
    import numpy as np
    import torch
    import transformers

    model = transformers.AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32).eval()
    worst, m_acc, m_norm, longest = 0.0, float("inf"), float("inf"), 0
    for line in (ref_dir / f"{preset}.jsonl").read_text(encoding="utf-8").splitlines():
        x = json.loads(line)
        for ci, (ctx, cont, ll) in enumerate(zip(x["context_ids"], x["continuation_ids"], x["loglikelihoods"])):
            ids = torch.tensor([(ctx + cont)[:-1]])
            longest = max(longest, len(ctx) + len(cont))
            with torch.no_grad():
                lp = torch.log_softmax(model(ids).logits[0].float(), dim=-1)
            tail = lp[-len(cont):]
            mine = float(tail.gather(1, torch.tensor(cont)[:, None]).sum())
            worst = max(worst, abs(mine - ll))
            assert abs(mine - ll) < 1e-4, (x["task"], x["language"], x["doc_id"], ci, mine, ll)
        lls = np.array(x["loglikelihoods"])
        lens = np.array([float(len(c) - 1) for c in x["continuations"]])  # the choice, delimiter removed
        assert int(np.argmax(lls) == x["gold"]) == x["acc"]
        assert int(np.argmax(lls / lens) == x["gold"]) == x["acc_norm"]
        s1, s2 = np.sort(lls)[::-1][:2], np.sort(lls / lens)[::-1][:2]
        m_acc, m_norm = min(m_acc, s1[0] - s1[1]), min(m_norm, s2[0] - s2[1])
    return {"max_abs_diff_vs_plain_hf_forward": worst, "min_top2_gap_loglikelihood": float(m_acc),
            "min_top2_gap_normalised": float(m_norm), "longest_sequence_tokens": longest}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="test/fixtures/eval")
    ap.add_argument("--okapi-fork", help="a clone (or bare git dir) of github.com/nlp-uoregon/mlmm-evaluation")
    ap.add_argument("--models", default="gemma2-demo,llama")
    ap.add_argument("--check-only", action="store_true", help="only re-check the written reference files")
    ap.add_argument("--fork-worker", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.fork_worker:
        fork_worker(Path(a.fork_worker[0]), Path(a.fork_worker[1]), Path(a.fork_worker[2]))
        return
    repo = Path(__file__).resolve().parents[2]
    out = Path(a.out).resolve()
    write_data(out)
    models = {"gemma2-demo": repo / "resources" / "demo" / "model"}
    if "llama" in a.models:
        models["llama"] = ensure_llama(out, repo)
    for m in a.models.split(","):
        ref = out / "reference" / m
        if not a.check_only:
            run_lm_eval(models[m], out, ref)
            if a.okapi_fork:
                run_okapi_original(models[m], out, ref, Path(a.okapi_fork))
        for preset in ("lm-eval-okapi", "okapi-original"):
            if (ref / f"{preset}.jsonl").exists():
                print(m, preset, json.dumps(self_check(models[m], ref, preset)))


if __name__ == "__main__":
    main()
