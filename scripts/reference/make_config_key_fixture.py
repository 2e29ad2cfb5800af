#!/usr/bin/env python3
"""What transformers reads from config.json, per architecture, for src/main/models/config.test.ts.

Writes `test/fixtures/models/config-keys.json`:

    classes.<arch>.fields        every dataclass field of the config class (Gemma2Config, ...):
                                 {name: {"type": annotation as text, "default": default or null}}
    classes.<arch>.float_fields  the fields typed `float` / `float | None`, which transformers 5's
                                 strict configs refuse as JSON integers (30 fails, 30.0 loads)
    classes.<arch>.modeling_reads  every config attribute the modeling code reads for the
                                 architecture (`config.X`, `getattr(config, "X", ...)` in
                                 modeling_<arch>.py, masking_utils.py, modeling_rope_utils.py),
                                 methods left out: a key in config.json becomes such an attribute
                                 even when the class does not declare it (e.g. "is_causal": false
                                 makes every mask bidirectional)
    cases[]                      small configs written to a folder as config.json, loaded with
                                 AutoConfig.from_pretrained and built with AutoModelForCausalLM;
                                 `effective` is what the BUILT model uses, read from its modules
                                 (not from the config): per-layer sliding windows, attention
                                 scaling, soft-caps, head_dim, norm eps, biases present, tied head,
                                 activation class, RoPE inv_freq.

The cases leave keys out on purpose so that transformers' defaults decide (e.g. Gemma-2 without
soft-cap keys soft-caps at 50/30; Mistral without sliding_window slides at 4096; Qwen2's
max_window_layers defaults to 28), which our parser must reproduce.

Usage (from the repository root; torch + transformers):
    ~/.venvs/ref/bin/python scripts/reference/make_config_key_fixture.py [--out test/fixtures/models/config-keys.json]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, Gemma2Config, LlamaConfig, MistralConfig, Qwen2Config

GENERATOR = "scripts/reference/make_config_key_fixture.py"
CLASSES = {"gemma2": Gemma2Config, "llama": LlamaConfig, "mistral": MistralConfig, "qwen2": Qwen2Config}
ARCH_NAMES = {"gemma2": "Gemma2ForCausalLM", "llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM"}
TINY = dict(hidden_size=32, intermediate_size=64, num_attention_heads=2, num_key_value_heads=1, num_hidden_layers=3, vocab_size=64)

CASES = [
    ("gemma2", "defaults decide head_dim, soft-caps, window, query scalar", dict(TINY)),
    ("gemma2", "explicit nulls and layer_types", dict(TINY, head_dim=16, num_key_value_heads=1, attn_logit_softcapping=None,
     final_logit_softcapping=None, sliding_window=3, layer_types=["full_attention", "sliding_attention", "sliding_attention"], query_pre_attn_scalar=20)),
    ("gemma2", "attention_bias and hub-style rope_theta", dict(TINY, head_dim=16, attention_bias=True, rope_theta=20000.0, tie_word_embeddings=False)),
    ("llama", "defaults (no head_dim, no kv heads)", {k: v for k, v in TINY.items() if k != "num_key_value_heads"}),
    ("llama", "legacy rope_scaling llama3, top-level original_max_position_embeddings, biases", dict(TINY, num_key_value_heads=1, rope_theta=500000.0,
     rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 32},
     attention_bias=True, mlp_bias=True, rms_norm_eps=1e-5, tie_word_embeddings=True)),
    ("mistral", "no sliding_window key: the default window", dict(TINY)),
    ("mistral", "sliding_window null, head_dim set", dict(TINY, sliding_window=None, head_dim=8, hidden_act="gelu_new")),
    ("qwen2", "defaults", dict(TINY)),
    ("qwen2", "use_sliding_window with the default max_window_layers (28)", dict(TINY, num_hidden_layers=30, use_sliding_window=True, sliding_window=5)),
    ("qwen2", "use_sliding_window false ignores sliding_window", dict(TINY, use_sliding_window=False, sliding_window=5, max_window_layers=1)),
]


def jsonable(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    return repr(v)


READ_PATTERN = re.compile(r'(?:self\.)?config\.([A-Za-z]\w*)|getattr\((?:self\.)?config,\s*"([A-Za-z]\w*)"')


def modeling_reads(arch: str, cls) -> list[str]:
    root = Path(transformers.__file__).parent
    files = [root / "models" / arch / f"modeling_{arch}.py", root / "masking_utils.py", root / "modeling_rope_utils.py"]
    names = {a or b for f in files for a, b in READ_PATTERN.findall(f.read_text())}
    # "config.json" in comments and docstrings is not an attribute.
    return sorted(n for n in names if n != "json" and not callable(getattr(cls, n, None)))


def class_table(cls) -> dict:
    fields = {}
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else (f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        fields[f.name] = {"type": str(f.type) if not isinstance(f.type, type) else f.type.__name__, "default": jsonable(default)}
    floats = sorted(n for n, f in fields.items() if f["type"] in ("float", "float | None"))
    arch = next(a for a, c in CLASSES.items() if c is cls)
    return {"class": cls.__name__, "fields": fields, "float_fields": floats, "modeling_reads": modeling_reads(arch, cls)}


def effective(model) -> dict:
    cfg = model.config
    layers = model.model.layers
    attn = [layer.self_attn for layer in layers]
    norm = layers[0].input_layernorm
    eps = getattr(norm, "eps", getattr(norm, "variance_epsilon", None))
    mlp = layers[0].mlp
    final_cap = getattr(cfg, "final_logit_softcapping", None) if cfg.model_type == "gemma2" else None
    return {
        "numLayers": len(layers),
        "hiddenSize": cfg.hidden_size,
        "numHeads": cfg.num_attention_heads,
        "numKvHeads": attn[0].k_proj.out_features // attn[0].head_dim,
        "headDim": attn[0].head_dim,
        "intermediateSize": mlp.gate_proj.out_features,
        "vocabSize": model.model.embed_tokens.num_embeddings,
        # Mistral's attention modules hold no window: its mask applies config.sliding_window to
        # every layer (create_sliding_window_causal_mask whenever it is set).
        "windows": [cfg.sliding_window for a in attn] if cfg.model_type == "mistral" else [getattr(a, "sliding_window", None) for a in attn],
        "attentionScale": attn[0].scaling,
        "attnSoftcap": getattr(attn[0], "attn_logit_softcapping", None),
        "finalSoftcap": final_cap,
        "rmsNormEps": eps,
        "tieEmbeddings": model.lm_head.weight is model.model.embed_tokens.weight,
        "qkvBias": attn[0].q_proj.bias is not None,
        "oBias": attn[0].o_proj.bias is not None,
        "mlpBias": mlp.down_proj.bias is not None,
        "activation": type(mlp.act_fn).__name__,
        "invFreq": [float(x) for x in model.model.rotary_emb.inv_freq.tolist()],
        "gemmaStyle": cfg.model_type == "gemma2",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="test/fixtures/models/config-keys.json")
    args = ap.parse_args()
    torch.manual_seed(0)
    out = {
        "generator": GENERATOR,
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__},
        "classes": {arch: class_table(cls) for arch, cls in CLASSES.items()},
        "cases": [],
    }
    for arch, name, keys in CASES:
        config = {"architectures": [ARCH_NAMES[arch]], "model_type": arch, **keys}
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "config.json").write_text(json.dumps(config))
            cfg = AutoConfig.from_pretrained(tmp)
        model = AutoModelForCausalLM.from_config(cfg, attn_implementation="eager")
        out["cases"].append({"arch": arch, "name": name, "config": config, "effective": effective(model)})
        print(arch, name, json.dumps({k: v for k, v in out["cases"][-1]["effective"].items() if k != "invFreq"}), flush=True)
    Path(args.out).write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
