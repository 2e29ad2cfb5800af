#!/usr/bin/env python3
"""Small multiple-choice benchmark files in every stored form, and what lm-evaluation-harness makes of them.

Writes test/fixtures/eval/readers/ for src/main/data/mc/*.test.ts:
  alexandrainst/m_{arc,hellaswag,mmlu}/data/{lang}/{split}.jsonl   JSON lines
  okapi/m_{arc,hellaswag,mmlu}/{lang}_{split}.json                 the Okapi release's JSON arrays
  parquet/m_{arc,mmlu}/{lang}/{split}-00000-of-00001.parquet       written by Hugging Face `datasets`
  parquet/m_hellaswag/{lang}/val/000{0,1}.parquet                  two shards of one split (pyarrow)
  parquet-gzip/, parquet-zstd/, other-dataset/, parquet-missing-column/   codec and schema cases (pyarrow)
  generic/data/{lang}/test.jsonl                                   {"context", "choices", "gold"}
  expected.json   per file: each doc's gold and choices as the harness's own Okapi code computes them
                  (lm_eval.tasks.okapi.*.utils.process_docs for ARC and HellaSwag; the m_mmlu YAML's
                  doc_to_choice ["A","B","C","D"] and doc_to_target `answer` for MMLU)

The item texts are made up here (the Okapi data is CC BY-NC and is not copied). Run from the
repository root:
    ~/.venvs/ref/bin/python scripts/reference/make_mc_reader_fixtures.py
"""
from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
from lm_eval.tasks.okapi.arc_multilingual import utils as arc_utils
from lm_eval.tasks.okapi.hellaswag_multilingual import utils as hellaswag_utils

OUT = Path("test/fixtures/eval/readers")

ARC_ML_TEST = [
    {"id": "ARC-Challenge/test/ml-1", "instruction": "സൂര്യൻ ഉദിക്കുന്നത് ഏത് ദിശയിലാണ്?", "option_a": "കിഴക്ക്", "option_b": "പടിഞ്ഞാറ്", "option_c": "വടക്ക്", "option_d": "തെക്ക്", "option_e": "", "answer": "A"},
    {"id": "ARC-Challenge/test/ml-2", "instruction": "ജലം തിളയ്ക്കുന്ന താപനില എത്ര?", "option_a": "0°C", "option_b": "50°C", "option_c": "100°C", "option_d": "200°C", "option_e": "300°C", "answer": "E"},
    {"id": "ARC-Challenge/test/ml-3", "instruction": "ഏതാണ് ഒരു ഗ്രഹം?", "option_a": "ചന്ദ്രൻ", "option_b": "ചൊവ്വ", "option_c": "സൂര്യൻ", "option_d": "ധൂമകേതു", "option_e": None, "answer": "B"},
    {"id": "ARC-Challenge/test/ml-4", "instruction": "സസ്യങ്ങൾ ഏത് വാതകം പുറത്തുവിടുന്നു?", "option_a": "ഓക്സിജൻ", "option_b": "നൈട്രജൻ", "option_c": "ഹീലിയം", "option_d": "ആർഗൺ", "option_e": "", "answer": "A"},
]
ARC_ML_VAL = [
    {"id": "ARC-Challenge/validation/ml-1", "instruction": "ഭൂമിയുടെ ഉപഗ്രഹം ഏത്?", "option_a": "ചന്ദ്രൻ", "option_b": "ശുക്രൻ", "option_c": "ബുധൻ", "option_d": "ശനി", "option_e": "", "answer": "A"},
    {"id": "ARC-Challenge/validation/ml-2", "instruction": "ഐസ് ഉരുകുമ്പോൾ എന്തായി മാറുന്നു?", "option_a": "നീരാവി", "option_b": "വെള്ളം", "option_c": "മണൽ", "option_d": "വായു", "option_e": "", "answer": "B"},
]
ARC_EN_TEST = [
    {"id": "ARC-Challenge/test/en-1", "instruction": "Which direction does the Sun rise in?", "option_a": "east", "option_b": "west", "option_c": "north", "option_d": "south", "option_e": "", "answer": "A"},
    {"id": "ARC-Challenge/test/en-2", "instruction": "Which of these is a planet?", "option_a": "the Moon", "option_b": "Mars", "option_c": "the Sun", "option_d": "a comet", "option_e": "", "answer": "B"},
]
HELLASWAG_ML_VAL = [
    {"ind": 4, "activity_label": "പാചകം", "ctx_a": "ഒരാൾ അടുക്കളയിൽ നിൽക്കുന്നു.", "ctx_b": "അവൻ", "ctx": "ഒരാൾ അടുക്കളയിൽ നിൽക്കുന്നു. അവൻ", "endings": ["അരി കഴുകുന്നു.", "ആകാശത്തേക്ക് പറക്കുന്നു.", "ഒരു കാർ വിഴുങ്ങുന്നു.", "ചന്ദ്രനിൽ ഉറങ്ങുന്നു."], "source_id": "activitynet~v_a", "split": "val", "split_type": "indomain", "label": "0"},
    {"ind": 9, "activity_label": "Making a cake", "ctx_a": "A woman mixes flour in a bowl.", "ctx_b": "SHE", "ctx": "A woman mixes flour in a bowl. SHE", "endings": ["pours the batter into a pan.", "paints the bowl blue.", "throws the bowl away.", "sings to the flour."], "source_id": "wikihow~1", "split": "val", "split_type": "zeroshot", "label": "0"},
    {"ind": 12, "activity_label": "നടത്തം", "ctx_a": "[header] ഒരു പാർക്കിൽ നടക്കുക.", "ctx_b": "", "ctx": "[header] ഒരു പാർക്കിൽ നടക്കുക.", "endings": ["[title] ഷൂസ് ധരിക്കുക.", "വെള്ളത്തിൽ മുങ്ങുക.", "മേൽക്കൂരയിൽ കയറുക.", "ഉറങ്ങുക."], "source_id": "wikihow~2", "split": "val", "split_type": "indomain", "label": " 0"},
    {"ind": 15, "activity_label": "നീന്തൽ", "ctx_a": "ഒരു കുട്ടി കുളത്തിനരികിൽ.", "ctx_b": "അവൾ", "ctx": "ഒരു കുട്ടി കുളത്തിനരികിൽ. അവൾ", "endings": ["പുസ്തകം കത്തിക്കുന്നു.", "വെള്ളത്തിലേക്ക് ചാടുന്നു.", "മേഘം പിടിക്കുന്നു.", "മല കയറുന്നു."], "source_id": "activitynet~v_b", "split": "val", "split_type": "indomain", "label": "1"},
]
MMLU_ML_TEST = [
    {"id": "ml/test/1", "instruction": "2 + 2 എത്ര?", "option_a": "3", "option_b": "4", "option_c": "5", "option_d": "22", "answer": "B"},
    {"id": "ml/test/2", "instruction": "ഇന്ത്യയുടെ തലസ്ഥാനം ഏത്?", "option_a": "മുംബൈ", "option_b": "ചെന്നൈ", "option_c": "ന്യൂ ഡൽഹി", "option_d": "കൊൽക്കത്ത", "answer": "C"},
    {"id": "ml/test/3", "instruction": "ജലത്തിന്റെ രാസസൂത്രം?", "option_a": "CO2", "option_b": "O2", "option_c": "NaCl", "option_d": "H2O", "answer": "D"},
]
MMLU_ML_DEV = [
    {"id": "ml/dev/1", "instruction": "3 × 3 എത്ര?", "option_a": "9", "option_b": "6", "option_c": "33", "option_d": "1", "answer": "A"},
]
GENERIC_ML_TEST = [
    {"context": "കേരളത്തിന്റെ തലസ്ഥാനം", "choices": ["തിരുവനന്തപുരം", "കൊച്ചി", "കോഴിക്കോട്"], "gold": 0},
    {"context": "The opposite of hot is", "choices": ["cold", "warm"], "gold": 0, "note": "extra fields are kept"},
    {"context": "", "choices": ["a", "b", "c", "d", "e", "f"], "gold": 5},
]
OTHER_DATASET = [{"text": "a sentence", "label": 1, "source": "x"}, {"text": "another", "label": 0, "source": "y"}]


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def write_json(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def hf_parquet(path: Path, rows: list[dict]) -> None:
    """As `datasets` writes a split for the Hub (push_to_hub / to_parquet: pyarrow, snappy)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(rows).to_parquet(str(path))


def arrow_parquet(path: Path, rows: list[dict], compression: str = "snappy") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), str(path), compression=compression)


def harness_arc(rows: list[dict]) -> list[dict]:
    docs = arc_utils.process_docs(datasets.Dataset.from_list(rows))
    return [{"gold": d["gold"], "choices": d["choices"], "query": d["query"]} for d in docs]


def harness_hellaswag(rows: list[dict]) -> list[dict]:
    docs = hellaswag_utils.process_docs(datasets.Dataset.from_list(rows))
    return [{"gold": d["gold"], "choices": d["choices"], "query": d["query"]} for d in docs]


def harness_mmlu(rows: list[dict]) -> list[dict]:
    # _default_yaml: doc_to_choice ["A","B","C","D"], doc_to_target `answer` -> choices.index(answer)
    letters = ["A", "B", "C", "D"]
    return [{"gold": letters.index(r["answer"]), "choices": [r["option_a"], r["option_b"], r["option_c"], r["option_d"]]} for r in rows]


def main() -> int:
    expected: dict[str, list[dict]] = {}

    def record(rel: str, docs: list[dict]) -> None:
        expected[rel] = docs

    sets = [
        ("m_arc", "ml", "test", ARC_ML_TEST, harness_arc),
        ("m_arc", "ml", "val", ARC_ML_VAL, harness_arc),
        ("m_arc", "en", "test", ARC_EN_TEST, harness_arc),
        ("m_hellaswag", "ml", "val", HELLASWAG_ML_VAL, harness_hellaswag),
        ("m_mmlu", "ml", "test", MMLU_ML_TEST, harness_mmlu),
    ]
    for name, lang, split, rows, harness in sets:
        rel = f"alexandrainst/{name}/data/{lang}/{split}.jsonl"
        write_jsonl(OUT / rel, rows)
        record(rel, harness(rows))

    okapi = [
        # The Okapi release names splits train/validation/test (dev for MMLU's few-shot pool).
        ("m_arc", "ml", "test", [{k: v for k, v in r.items() if k != "option_e"} for r in (ARC_ML_TEST[0], ARC_ML_TEST[3])], harness_arc),
        ("m_hellaswag", "ml", "validation", HELLASWAG_ML_VAL, harness_hellaswag),
        ("m_mmlu", "ml", "test", MMLU_ML_TEST, harness_mmlu),
        ("m_mmlu", "ml", "dev", MMLU_ML_DEV, harness_mmlu),
    ]
    for name, lang, split, rows, harness in okapi:
        rel = f"okapi/{name}/{lang}_{split}.json"
        write_json(OUT / rel, rows)
        # The Okapi ARC rows have no option_e key; the harness's process_docs reads one, so the
        # expectation is computed on the rows with an empty option_e added.
        record(rel, harness([{"option_e": ""} | r for r in rows] if name == "m_arc" else rows))

    hf_rows = [r | {"option_e": r["option_e"] or ""} for r in ARC_ML_TEST]  # a string column, as on the Hub
    rel = "parquet/m_arc/ml/test-00000-of-00001.parquet"
    hf_parquet(OUT / rel, hf_rows)
    record(rel, harness_arc(hf_rows))
    rel = "parquet/m_mmlu/ml/test-00000-of-00001.parquet"
    hf_parquet(OUT / rel, MMLU_ML_TEST)
    record(rel, harness_mmlu(MMLU_ML_TEST))
    # Two shards of one split with int64 labels: doc ids run on across them.
    shard_rows = [r | {"label": int(r["label"])} for r in HELLASWAG_ML_VAL]
    for i, part in enumerate([shard_rows[:3], shard_rows[3:]]):
        rel = f"parquet/m_hellaswag/ml/val/{i:04d}.parquet"
        arrow_parquet(OUT / rel, part)
        record(rel, harness_hellaswag(part))
    rel = "parquet-gzip/m_mmlu/ml/test-00000-of-00001.parquet"
    arrow_parquet(OUT / rel, MMLU_ML_TEST, "gzip")
    record(rel, harness_mmlu(MMLU_ML_TEST))
    arrow_parquet(OUT / "parquet-zstd/m_mmlu/ml/test-00000-of-00001.parquet", MMLU_ML_TEST, "zstd")
    arrow_parquet(OUT / "other-dataset/ml/train-00000-of-00001.parquet", OTHER_DATASET)
    # m_mmlu with its answer column lost: a near miss, named by the column it lacks.
    arrow_parquet(OUT / "parquet-missing-column/m_mmlu/ml/test-00000-of-00001.parquet", [{k: v for k, v in r.items() if k != "answer"} for r in MMLU_ML_TEST])

    rel = "generic/data/ml/test.jsonl"
    write_jsonl(OUT / rel, GENERIC_ML_TEST)
    record(rel, [{"gold": r["gold"], "choices": r["choices"]} for r in GENERIC_ML_TEST])

    meta = {"generator": "scripts/reference/make_mc_reader_fixtures.py", "lm_eval": metadata.version("lm_eval"),
            "datasets": datasets.__version__, "pyarrow": pa.__version__, "python": sys.version.split()[0]}
    (OUT / "expected.json").write_text(json.dumps({"meta": meta, "files": expected}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(expected)} expectations to {OUT / 'expected.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
