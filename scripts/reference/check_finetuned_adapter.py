#!/usr/bin/env python3
"""An adapter TRAINED by `linguascope finetune` loads in Hugging Face `peft` with no missing- or
unexpected-key warning, and PEFT's adapted model gives our adapted activations.

Inputs: a base model folder (HF layout, e.g. resources/demo/model), the adapter folder the fine-tune
wrote (RUN/adapter), and an activations file written by OUR code for the same adapter:
  npx linguascope activations --model BASE --adapter RUN/adapter --token-ids 2,40,... --layers all --out OURS.safetensors
The token ids are read from OURS' metadata. Fails when a warning or log record mentions missing or
unexpected keys, when PEFT's LoRA modules are not exactly the file's, when the adapter does not move
the model (B = 0 would test nothing), or when any layer's resid_post differs from ours by more than
1e-4 (relative to the layer's largest value).

Run:  /root/.venvs/ref/bin/python scripts/reference/check_finetuned_adapter.py BASE ADAPTER OURS
"""
from __future__ import annotations

import json
import logging
import sys
import warnings

import torch
from peft import PeftModel
from safetensors import safe_open
from transformers import AutoModelForCausalLM


class KeyWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "missing" in text.lower() or "unexpected" in text.lower():
            self.records.append(text)


def resid_post(model, ids: torch.Tensor) -> list[torch.Tensor]:
    outs: list[torch.Tensor] = []
    layers = model.model.layers
    handles = [layer.register_forward_hook(lambda m, a, o: outs.append((o[0] if isinstance(o, tuple) else o).detach()[0])) for layer in layers]
    with torch.no_grad():
        model(input_ids=ids)
    for h in handles:
        h.remove()
    return outs


def main(base_dir: str, adapter_dir: str, ours_file: str) -> None:
    handler = KeyWarnings()
    logging.getLogger().addHandler(handler)
    for name in ("peft", "transformers"):
        logging.getLogger(name).addHandler(handler)
    with safe_open(ours_file, "pt") as f:
        meta = f.metadata()
        ids = json.loads(meta["token_ids"])
        ours = {k: f.get_tensor(k) for k in f.keys() if k.endswith("hook_resid_post")}
    ids_t = torch.tensor([ids])
    base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32, attn_implementation="eager")
    plain = resid_post(base, ids_t)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = PeftModel.from_pretrained(base, adapter_dir)
    keys = [str(w.message) for w in caught if "missing" in str(w.message).lower() or "unexpected" in str(w.message).lower()]
    assert not keys and not handler.records, f"PEFT warned about keys: {keys + handler.records}"
    with safe_open(f"{adapter_dir}/adapter_model.safetensors", "pt") as f:
        in_file = {k.rsplit(".lora_", 1)[0].removeprefix("base_model.model.") for k in f.keys()}
    loaded = {n.removeprefix("base_model.model.") for n, m in model.named_modules() if hasattr(m, "lora_A") and "default" in m.lora_A}
    assert loaded == in_file, f"PEFT adapted {sorted(loaded ^ in_file)[:5]} differently from the file"
    adapted = resid_post(model.base_model.model, ids_t)
    moved = max(float((a - p).abs().max()) for a, p in zip(adapted, plain))
    assert moved > 1e-4, f"the adapter moves resid_post by {moved} only"
    worst = 0.0
    for L, theirs in enumerate(adapted):
        mine = ours[f"blocks.{L}.hook_resid_post"]
        worst = max(worst, float((mine - theirs).abs().max() / theirs.abs().max()))
    assert worst < 1e-4, f"ours differs from PEFT by {worst:.3g} (relative to each layer's largest value)"
    print(f"{adapter_dir}: {len(in_file)} LoRA modules loaded by PEFT with no key warning; the adapter moves resid_post by up to {moved:.3g}; ours = PEFT within {worst:.3g} (relative) over {len(adapted)} layers, {len(ids)} tokens")


if __name__ == "__main__":
    main(*sys.argv[1:4])
