#!/usr/bin/env python3
"""A LoRA adapter WRITTEN BY OUR CODE loads in Hugging Face `peft` as it is, and PEFT's outputs with it.

Input: test/fixtures/adapters/written-llama/ (adapter_config.json + adapter_model.safetensors as
src/main/io/peft-adapter-writer.ts writes them; regenerate with
`LINGUASCOPE_WRITE_FIXTURES=1 npx vitest run src/main/io/peft-adapter-writer.test.ts`): rsLoRA r 4,
alpha 8, q/v/down_proj of layers 0 and 2 of the tiny random Llama (test/fixtures/models/llama),
non-zero seeded A and B.

Loads it with `PeftModel.from_pretrained` over the base (eager, float32) and FAILS when:
  - any warning or log record mentions missing/unexpected keys (PEFT only warns on a missing key and
    then runs with B = 0, so a misnamed key would pass silently),
  - PEFT's LoRA layers are not exactly the modules the file holds, or its scaling is not 4,
  - a loaded lora_A/lora_B differs from the file's tensor,
  - the adapter barely moves the logits (a zero-B adapter would test nothing).
Writes test/fixtures/adapters/written-llama-peft/reference.safetensors: the base fixture's batch
(input_ids, attention_mask), every layer's blocks.L.hook_resid_{pre,mid,post} and the logits of the
adapted model. src/main/io/peft-adapter-writer.test.ts compares our forward with it (1e-4).

Run:  /root/.venvs/ref/bin/python scripts/reference/check_written_adapter.py [ADAPTER_DIR]
(an ADAPTER_DIR other than the fixture is only checked, no reference written: how the check itself
was seen to fail on a misnamed key)
"""
from __future__ import annotations

import logging
import sys
import warnings
from pathlib import Path

import peft
import torch
from peft import PeftModel
from safetensors import safe_open

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_model_fixtures import max_abs_real, run_hooked, versions, write_reference  # noqa: E402
from make_peft_fixtures import base_inputs, load_base, lora_scaling  # noqa: E402

ADAPTER = Path("test/fixtures/adapters/written-llama")
OUT = Path("test/fixtures/adapters/written-llama-peft")
BASE = "llama"


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record):
        self.records.append(record.getMessage())


def main() -> int:
    adapter = Path(sys.argv[1]) if len(sys.argv) > 1 else ADAPTER
    ids, mask = base_inputs(BASE)
    plain = run_hooked(BASE, load_base(BASE), ids, mask)
    handler = Collect()
    for name in ("peft", "transformers", ""):
        logging.getLogger(name).addHandler(handler)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = PeftModel.from_pretrained(load_base(BASE), str(adapter))
    said = [str(w.message) for w in caught] + handler.records
    bad = [m for m in said if "key" in m.lower() or "missing" in m.lower() or "unexpected" in m.lower()]
    assert not bad, f"PEFT warned while loading our adapter: {bad}"
    model.eval()

    with safe_open(str(adapter / "adapter_model.safetensors"), "pt") as f:
        assert f.metadata() == {"format": "pt"}, f.metadata()
        saved = {k: f.get_tensor(k) for k in f.keys()}
    loaded = {}
    for name, p in model.named_parameters():
        if "lora_" in name:
            loaded[name.replace(".default", "")] = p.detach()
    assert set(loaded) == set(saved), sorted(set(loaded) ^ set(saved))
    for k, t in saved.items():
        assert t.dtype == torch.float32 and torch.equal(loaded[k], t), k
    scaling = lora_scaling(model)
    assert scaling == 4.0, scaling

    store = run_hooked(BASE, model.base_model.model, ids, mask)
    moved = max_abs_real(store["logits"], plain["logits"], mask)
    assert moved > 1e-2, f"the adapter barely changes the logits ({moved})"
    if adapter != ADAPTER:
        print(f"{adapter}: loads in PEFT with no key warning (not the fixture: no reference written)")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {**versions(), "peft": peft.__version__, "generator": "scripts/reference/check_written_adapter.py", "adapter": str(adapter), "scaling": str(scaling)}
    write_reference(OUT, ids, mask, store, meta)
    print(f"{adapter}: {len(saved)} LoRA tensors loaded by PEFT {peft.__version__} with no key warning; scaling {scaling}; logits moved by {moved:.3g}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
