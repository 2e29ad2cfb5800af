#!/usr/bin/env python3
"""LoRA adapter fixtures from the reference implementation (Hugging Face `peft` over `transformers`).

Loads the tiny random base models that make_model_fixtures.py wrote (test/fixtures/models/gemma2 and
llama), wraps each with a PEFT `LoraConfig`, replaces the zero-initialised lora_B (and lora_A) with
seeded random values — B is zero at init, and a zero-B adapter would test nothing — saves the
adapter with `save_pretrained`, reloads it with `PeftModel.from_pretrained` (failing on any
missing/unexpected-key warning) and writes, per adapter, into `test/fixtures/adapters/<name>/`:

    adapter_config.json          as PEFT writes it (base_model_name_or_path set to the fixture path)
    adapter_model.safetensors    as PEFT writes it (keys base_model.model.model.layers.{i}....lora_{A,B}.weight)
    reference.safetensors        input_ids, attention_mask (the base fixture's batch), every layer's
                                 blocks.L.hook_resid_{pre,mid,post} and the logits of the ADAPTED model,
                                 hooked as make_model_fixtures.py hooks the base model (eager, float32)

Adapters (r 4, lora_alpha 8 throughout):
    gemma2-lora          all seven linears (q,k,v,o,gate,up,down) of every layer, scaling alpha/r = 2
    llama-lora-layers    all seven linears, layers_to_transform [0, 2] only (layer 1 untouched)
    llama-rslora         target_modules as a full-match regex string (layer 1's q,v,o,gate,down),
                         use_rslora: scaling alpha/sqrt(r) = 4

Run:  /root/.venvs/ref/bin/python scripts/reference/make_peft_fixtures.py
"""
from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import peft
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors import safe_open
from transformers import AutoModelForCausalLM

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_model_fixtures import max_abs_real, run_hooked, versions, write_reference  # noqa: E402

OUT = Path("test/fixtures/adapters")
BASES = Path("test/fixtures/models")
SEED = 20261130
ALL7 = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

ADAPTERS = {
    "gemma2-lora": dict(base="gemma2", config=dict(target_modules=ALL7)),
    "llama-lora-layers": dict(base="llama", config=dict(target_modules=ALL7, layers_to_transform=[0, 2])),
    "llama-rslora": dict(
        base="llama",
        config=dict(target_modules=r"model\.layers\.1\.(self_attn\.(q|v|o)_proj|mlp\.(gate|down)_proj)", use_rslora=True),
    ),
}


def load_base(base: str):
    model = AutoModelForCausalLM.from_pretrained(str(BASES / base), attn_implementation="eager", dtype=torch.float32)
    model.eval()
    return model


def base_inputs(base: str):
    with safe_open(str(BASES / base / "reference.safetensors"), "pt") as f:
        return f.get_tensor("input_ids"), f.get_tensor("attention_mask")


def randomise_lora(model, seed: int) -> int:
    """Seeded N(0, 0.1) for every lora_A and lora_B weight (B non-zero); returns how many tensors."""
    gen = torch.Generator().manual_seed(seed)
    n = 0
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if "lora_A" in name or "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64).mul(0.1).to(p.dtype))
                n += 1
    return n


def lora_scaling(model) -> float:
    """PEFT's own scaling factor of the (single) adapter, from its first LoRA layer."""
    values = {m.scaling["default"] for m in model.modules() if hasattr(m, "scaling") and isinstance(m.scaling, dict)}
    assert len(values) == 1, values
    return values.pop()


def main() -> int:
    meta_common = {**versions(), "peft": peft.__version__, "generator": "scripts/reference/make_peft_fixtures.py"}
    print(meta_common, flush=True)
    for i, (name, spec) in enumerate(ADAPTERS.items()):
        base = spec["base"]
        ids, mask = base_inputs(base)
        plain = run_hooked(base, load_base(base), ids, mask)

        cfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, task_type="CAUSAL_LM", **spec["config"])
        model = get_peft_model(load_base(base), cfg)
        n = randomise_lora(model, SEED + i)
        assert n > 0
        model.eval()
        store = run_hooked(base, model.base_model.model, ids, mask)
        moved = max_abs_real(store["logits"], plain["logits"], mask)
        assert moved > 1e-2, f"{name}: the adapter barely changes the logits ({moved})"

        folder = OUT / name
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        model.save_pretrained(str(folder), safe_serialization=True)
        readme = folder / "README.md"
        if readme.exists():
            readme.unlink()
        # The absolute path of this machine's checkout would otherwise be recorded.
        config_path = folder / "adapter_config.json"
        written = json.loads(config_path.read_text())
        written["base_model_name_or_path"] = str(BASES / base)
        # PEFT keeps a list target_modules as a set: its written order follows the hash seed.
        if isinstance(written["target_modules"], list):
            written["target_modules"] = sorted(written["target_modules"])
        config_path.write_text(json.dumps(written, indent=2, sort_keys=True))
        assert sorted(p.name for p in folder.iterdir()) == ["adapter_config.json", "adapter_model.safetensors"], list(folder.iterdir())
        os.chmod(folder / "adapter_model.safetensors", 0o644)

        # PEFT only warns on a missing key and runs with B = 0: a reload must be warning-free and
        # give the same numbers.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            again = PeftModel.from_pretrained(load_base(base), str(folder))
        bad = [str(w.message) for w in caught if "key" in str(w.message).lower()]
        assert not bad, bad
        again.eval()
        reloaded = run_hooked(base, again.base_model.model, ids, mask)
        for k in store:
            assert torch.equal(store[k], reloaded[k]), f"{name}: reload differs at {k}"

        meta = {**meta_common, "base": str(BASES / base), "scaling": str(lora_scaling(model))}
        write_reference(folder, ids, mask, store, meta)
        size = sum(p.stat().st_size for p in folder.iterdir())
        print(f"{name}: {n} LoRA tensors, logits moved by {moved:.3g} from the base, {size} bytes, scaling {meta['scaling']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
