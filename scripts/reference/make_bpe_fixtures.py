"""Reference fixtures for LinguaScope's BPE trainer (src/main/models/bpe-train.ts).

Inputs (written by src/main/models/bpe-train.test.ts with LINGUASCOPE_UPDATE_BPE_FIXTURE=1):
  test/fixtures/bpe/tokenizer.json   the demo tokenizer our trainer produced
  test/fixtures/bpe/corpus.json      the training corpora, trainer settings and texts to encode

Output: test/fixtures/bpe/python.json with
  encode_cases   ids / ids with <bos> / pieces / decoded text that the Python `tokenizers` library
                 gives for every text, reading OUR tokenizer.json;
                 transformers' AutoTokenizer on the folder must give the same ids with <bos>
                 (the script stops otherwise; `transformers_agrees` counts the cases);
  trainer_cases  the vocabulary (by id) and merges that `tokenizers`' own BpeTrainer learns from
                 each corpus with the same settings: specials <pad> <eos> <bos> <unk> and the 256
                 byte pieces first, ' ' -> '▁', words split before each '▁', a text of weight w
                 given w times, vocab_size and min_frequency as stated.

Run from the repository root: /root/.venvs/ref/bin/python scripts/reference/make_bpe_fixtures.py
"""

import hashlib
import json
import platform
import sys
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "test" / "fixtures" / "bpe"
SPECIALS = ["<pad>", "<eos>", "<bos>", "<unk>"] + [f"<0x{b:02X}>" for b in range(256)]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def encode_cases(tokenizer_path: Path, cases):
    tok = Tokenizer.from_file(str(tokenizer_path))
    out = []
    for case in cases:
        plain = tok.encode(case["text"], add_special_tokens=False)
        special = tok.encode(case["text"], add_special_tokens=True)
        out.append(
            {
                **case,
                "ids": plain.ids,
                "ids_with_special": special.ids,
                "tokens": plain.tokens,
                "decoded": tok.decode(plain.ids, skip_special_tokens=True),
            }
        )
    return out


def check_transformers(folder: Path, cases) -> str:
    """transformers' AutoTokenizer on the folder (tokenizer.json + tokenizer_config.json, as a model
    folder holds them) must give the ids `tokenizers` gave, <bos> included; returns its version."""
    import transformers
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    for case in cases:
        ids = tok(case["text"])["input_ids"]
        if ids != case["ids_with_special"]:
            raise SystemExit(f"transformers disagrees on {case['text']!r}: {ids} vs {case['ids_with_special']}")
    return transformers.__version__


def train_reference(documents, vocab_size: int, min_frequency: int):
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = normalizers.Replace(" ", "\u2581")
    # A word is a '▁' and what follows it up to the next '▁' (as our trainer splits).
    tok.pre_tokenizer = pre_tokenizers.Split("\u2581", behavior="merged_with_next")
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=SPECIALS,
        show_progress=False,
    )
    texts = [d["text"] for d in documents for _ in range(d["weight"])]
    tok.train_from_iterator(texts, trainer=trainer)
    state = json.loads(tok.to_str())["model"]
    vocab = state["vocab"]
    by_id = [None] * len(vocab)
    for piece, i in vocab.items():
        by_id[i] = piece
    merges = [m.split(" ", 1) if isinstance(m, str) else m for m in state["merges"]]
    return by_id, merges


def main() -> None:
    tokenizer_path = FIXTURES / "tokenizer.json"
    corpus_path = FIXTURES / "corpus.json"
    corpus = json.loads(corpus_path.read_text(encoding="utf-8"))
    trainer_out = []
    for case in corpus["trainer_cases"]:
        documents = corpus["demo_documents"] if case["documents"] == "demo" else case["documents"]
        vocab, merges = train_reference(documents, case["vocab_size"], case["min_frequency"])
        trainer_out.append({"name": case["name"], "vocab": vocab, "merges": merges})
        print(f"{case['name']}: {len(vocab)} tokens, {len(merges)} merges", file=sys.stderr)
    encoded = encode_cases(tokenizer_path, corpus["encode_cases"])
    transformers_version = check_transformers(FIXTURES, encoded)
    fixture = {
        "generator": "scripts/reference/make_bpe_fixtures.py",
        "versions": {"python": platform.python_version(), "tokenizers": tokenizers.__version__, "transformers": transformers_version},
        "tokenizer_sha256": sha256(tokenizer_path),
        "corpus_sha256": sha256(corpus_path),
        # Every case's ids_with_special is also what transformers' AutoTokenizer gives (checked above).
        "transformers_agrees": len(encoded),
        "encode_cases": encoded,
        "trainer_cases": trainer_out,
    }
    (FIXTURES / "python.json").write_text(json.dumps(fixture, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
