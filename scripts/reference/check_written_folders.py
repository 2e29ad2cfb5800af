#!/usr/bin/env python3
"""Every model folder LinguaScope writes opens in Hugging Face transformers as it is.

Loads, with `AutoTokenizer.from_pretrained` and `AutoModelForCausalLM.from_pretrained` (eager
attention, float32, CPU) and nothing else (no class names, no config edits):

    demo         resources/demo/model (the bundled demo, written by our config writer)
    gemma2 llama mistral qwen2
                 folders written by OUR CLI: `node bin/linguascope.js make-random-model --arch A
                 --preset tiny --dtype f32 --seed 7 --out DIR` (run `npm run build` first)

and writes, per folder, `test/fixtures/written-folders/<name>.safetensors`:

    text{i}.input_ids                 I64 [n]      AutoTokenizer(text)["input_ids"] (BOS added by
                                                   the folder's own post-processor)
    text{i}.logits                    F32 [n, V]   one phrase per forward pass (no padding)
    text{i}.blocks.{L}.hook_resid_post F32 [n, d]  decoder layer L's output (forward hook)
    __metadata__: generator, versions, texts (JSON), source (JSON), tokenizer_class (the class
                  AutoTokenizer chose), files (JSON: sha256 of config.json, tokenizer_config.json,
                  tokenizer.json, model.safetensors as loaded)

src/main/models/written-folders.test.ts checks that our writer still writes those exact files
(sha256), that our tokenizer gives the same ids and our engine the same logits and residual
streams within tolerance. The script fails loudly when a folder does not load, when the
tokenizer is not the folder's own tokenizer.json (decode(encode(text)) must give the text back),
or when transformers warns that weights were missing or unused.

Usage (from the repository root, after `npm run build`; torch + transformers + safetensors):
    ~/.venvs/ref/bin/python scripts/reference/check_written_folders.py [--out test/fixtures/written-folders]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import safetensors
import torch
import transformers
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deterministic_safetensors import sort_metadata_keys  # noqa: E402

GENERATOR = "scripts/reference/check_written_folders.py"
SEED = 7
ARCHS = ["gemma2", "llama", "mistral", "qwen2"]
# Short on purpose (the byte-level tokenizer gives a token per UTF-8 byte): Latin, Devanagari
# (3 bytes a character), Malayalam, Han, and an emoji (4 bytes).
TEXTS = [
    "All human beings are born free.",
    "सभी मनुष्य स्वतंत्र",
    "മനുഷ്യരെല്ലാവരും",
    "人人生而自由 🙂",
]
FILES = ["config.json", "tokenizer_config.json", "tokenizer.json", "model.safetensors"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_folder(name: str, folder: Path, source: dict, out: Path, vers: dict) -> None:
    tok = AutoTokenizer.from_pretrained(str(folder))
    model, info = AutoModelForCausalLM.from_pretrained(str(folder), attn_implementation="eager", dtype=torch.float32, output_loading_info=True)
    bad = {k: v for k, v in info.items() if v and k != "error_msgs"} | ({"error_msgs": info["error_msgs"]} if info.get("error_msgs") else {})
    assert not bad, f"{name}: transformers reported {bad}"
    model.eval()
    tensors: dict[str, torch.Tensor] = {}
    for i, text in enumerate(TEXTS):
        ids = tok(text)["input_ids"]
        assert tok.decode(ids, skip_special_tokens=True) == text, (name, text, tok.decode(ids))
        store: dict[int, torch.Tensor] = {}
        handles = [layer.register_forward_hook(lambda m, a, o, L=L: store.__setitem__(L, (o[0] if isinstance(o, tuple) else o).detach().clone()))
                   for L, layer in enumerate(model.model.layers)]
        try:
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([ids]), use_cache=False).logits[0]
        finally:
            for h in handles:
                h.remove()
        tensors[f"text{i}.input_ids"] = torch.tensor(ids, dtype=torch.int64)
        tensors[f"text{i}.logits"] = logits.float().contiguous()
        for L, v in store.items():
            tensors[f"text{i}.blocks.{L}.hook_resid_post"] = v[0].float().contiguous()
        print(f"  {name} text{i}: {len(ids)} tokens, ids[:6] {ids[:6]}, max |logit| {float(logits.abs().max()):.3f}", flush=True)
    meta = {
        "generator": GENERATOR,
        **vers,
        "texts": json.dumps(TEXTS, ensure_ascii=False),
        "source": json.dumps(source),
        "tokenizer_class": type(tok).__name__,
        "model_class": type(model).__name__,
        "files": json.dumps({f: sha256(folder / f) for f in FILES}),
    }
    path = out / f"{name}.safetensors"
    save_file(tensors, str(path), metadata=meta)
    sort_metadata_keys(path)
    os.chmod(path, 0o644)
    with safe_open(str(path), "pt") as f:
        assert f.metadata() == meta
    print(f"  {name}: {type(tok).__name__} + {type(model).__name__}; wrote {path} ({path.stat().st_size} bytes)", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="test/fixtures/written-folders")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    vers = {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__, "safetensors": safetensors.__version__}
    print("versions:", json.dumps(vers), flush=True)
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    run_folder("demo", Path("resources/demo/model"), {"kind": "demo", "path": "resources/demo/model"}, out, vers)
    with tempfile.TemporaryDirectory() as tmp:
        for arch in ARCHS:
            folder = Path(tmp) / arch
            cmd = ["node", "bin/linguascope.js", "make-random-model", "--arch", arch, "--preset", "tiny", "--dtype", "f32", "--seed", str(SEED), "--out", str(folder)]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            run_folder(arch, folder, {"kind": "random", "arch": arch, "preset": "tiny", "dtype": "f32", "seed": SEED, "command": " ".join(cmd[1:-1])}, out, vers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
