#!/usr/bin/env python3
"""Float16 references for the forward pass's float16 compute graph (issue 17).

For each model fixture written by make_model_fixtures.py (gemma2, llama, mistral, qwen2), loads
the saved folder with Hugging Face `transformers` in float16 (`dtype=torch.float16`,
`attn_implementation="eager"`, CPU), runs the same right-padded batch as `reference.safetensors`
(its input_ids and attention_mask) and writes `test/fixtures/models/<name>/reference-f16.safetensors`:

    input_ids, attention_mask   copied from reference.safetensors
    blocks.L.hook_resid_{pre,mid,post}, logits
                                float32 [B, T, W]: the float16 values transformers computed, widened
                                (float16 -> float32 is exact)

In float16, transformers rounds every op's output to float16, upcasts RMSNorm (Gemma-2: the whole
norm; Llama/Mistral/Qwen2: the normalisation, then the weight product in float16) and computes the
attention softmax in float32. The hooks are taken exactly as make_model_fixtures.py takes them
(its `run_hooked`, which also checks resid_mid against resid_pre + attention output bit for bit).

The script prints, per fixture, how far transformers' own float16 run is from its float32
reference (the `reference.safetensors` of the same inputs), so the tolerances of
src/main/models/forward-f16.test.ts can be read against what float16 costs in the reference itself.

Usage (from the repository root; needs torch, transformers, safetensors):
    ~/.venvs/ref/bin/python scripts/reference/make_f16_fixtures.py [--models test/fixtures/models]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deterministic_safetensors import sort_metadata_keys  # noqa: E402
from make_model_fixtures import run_hooked, versions  # noqa: E402

GENERATOR = "scripts/reference/make_f16_fixtures.py"
NAMES = ("gemma2", "llama", "mistral", "qwen2")


def rel_rms_real(a: torch.Tensor, ref: torch.Tensor, mask: torch.Tensor) -> float:
    """||a - ref|| / ||ref|| over the real tokens' rows."""
    keep = mask.bool()
    d = (a.float() - ref.float())[keep]
    return float(d.norm() / ref.float()[keep].norm())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="test/fixtures/models")
    args = parser.parse_args()
    torch.manual_seed(0)
    meta_common = {"generator": GENERATOR, **{f"version.{k}": v for k, v in versions().items()}}
    for name in NAMES:
        folder = Path(args.models) / name
        with safe_open(str(folder / "reference.safetensors"), "pt") as f:
            ids = f.get_tensor("input_ids")
            mask = f.get_tensor("attention_mask")
            ref32 = {k: f.get_tensor(k) for k in f.keys() if k not in ("input_ids", "attention_mask")}
        model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float16, attn_implementation="eager")
        model.eval()
        assert next(model.parameters()).dtype == torch.float16
        store = run_hooked(name, model, ids, mask)
        tensors = {"input_ids": ids.contiguous(), "attention_mask": mask.contiguous()}
        worst = 0.0
        for k, v in store.items():
            assert v.dtype == torch.float16, (k, v.dtype)
            tensors[k] = v.float().contiguous()
            worst = max(worst, rel_rms_real(v, ref32[k], mask))
        print(f"{name}: transformers float16 vs float32, worst relative RMS over hooks and logits {worst:.2e}", flush=True)
        path = folder / "reference-f16.safetensors"
        meta = {**meta_common, "dtype": "float16", "hf_f16_vs_f32_worst_rel_rms": f"{worst:.3e}"}
        save_file(tensors, str(path), metadata=meta)
        sort_metadata_keys(path)
        os.chmod(path, 0o644)
    return 0


if __name__ == "__main__":
    sys.exit(main())
