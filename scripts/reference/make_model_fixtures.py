#!/usr/bin/env python3
"""Model fixtures from the reference implementation (Hugging Face `transformers`, PyTorch).

Builds tiny randomly initialised decoder models of four architectures (Gemma-2, Llama with llama3
RoPE scaling, Mistral with a sliding window, Qwen2 with q/k/v biases), runs a right-padded batch
of three phrases through them with `attn_implementation="eager"` in float32 on the CPU and writes,
per architecture, into `test/fixtures/models/<name>/`:

    config.json          what `model.save_pretrained` writes (HF's own serialisation)
    model.safetensors    the weights as `model.save_pretrained(..., safe_serialization=True)` saves them
                         (the generation_config.json it also writes is deleted)
    reference.safetensors
        input_ids        int64 [B, T]   right padded, pad id 0
        attention_mask   int64 [B, T]   1 for the first len_b tokens of phrase b, then 0
        blocks.L.hook_resid_pre   float32 [B, T, d_model]  input hidden states of decoder layer L
        blocks.L.hook_resid_mid   float32 [B, T, d_model]  residual stream after the attention
                                                           sub-block was added, before the MLP
        blocks.L.hook_resid_post  float32 [B, T, d_model]  output hidden states of decoder layer L
        logits           float32 [B, T, vocab]  (after Gemma-2's final soft-capping)

Plus `gemma2-bf16/`: the Gemma-2 weights rounded to bfloat16 (saved as BF16) and a reference
computed by HF in float32 from those rounded weights.

How the activations are taken (forward hooks, not `output_hidden_states`):
  * resid_pre: forward-pre hook on `model.model.layers[L]` (its `hidden_states` argument).
  * resid_post: forward hook on `model.model.layers[L]` (its output).
  * resid_mid: forward-pre hook on the input of the norm that opens the MLP sub-block:
      Gemma-2               `layers[L].pre_feedforward_layernorm`
                            (= resid_pre + post_attention_layernorm(self_attn_out))
      Llama/Mistral/Qwen2   `layers[L].post_attention_layernorm`   (= resid_pre + self_attn_out)
    The script recomputes that sum from a hook on `layers[L].self_attn` and asserts bit equality.

Positions at padding (attention_mask == 0) are whatever HF computes there; they are NOT meaningful
(a pad query in a sliding layer can have every key masked) and tests must compare only real tokens.

Checks done here (the script fails loudly otherwise): batch vs each phrase run alone unpadded
(right padding + HF's default position ids give positions 0..len-1), an independent float64
re-implementation of every architecture from the raw weights (documents the exact semantics our
TypeScript engine must match: sliding-window mask, Gemma-2 scaling/soft-capping, llama3 RoPE,
biases), and that the soft-capping, the sliding window and the llama3 scaling change the outputs.

The output is byte-reproducible: the one non-deterministic thing, the order in which the
safetensors library writes `__metadata__` keys, is fixed by rewriting the header with sorted keys.

Usage (from the repository root; needs torch, transformers, safetensors, numpy):
    ~/.venvs/ref/bin/python scripts/reference/make_model_fixtures.py [--out test/fixtures/models]
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import shutil
import struct
import sys
from pathlib import Path

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import safetensors
import torch
import transformers
from safetensors import safe_open

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deterministic_safetensors import sort_metadata_keys  # noqa: E402
from safetensors.torch import save_file
from transformers import (
    Gemma2Config,
    Gemma2ForCausalLM,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

GENERATOR = "scripts/reference/make_model_fixtures.py"
DEFAULT_OUT = "test/fixtures/models"
SEED = 20260525
LENGTHS = (10, 7, 4)  # phrase lengths; T = max = 10
PAD_ID = 0
NORM_STD = 0.1  # spread of the re-randomised RMSNorm weights

COMMON = dict(
    vocab_size=256,
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=3,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    max_position_embeddings=64,
    rms_norm_eps=1e-6,
    attn_implementation="eager",
    dtype="float32",
)

ARCHS = {
    "gemma2": dict(
        model_cls=Gemma2ForCausalLM,
        config_cls=Gemma2Config,
        config=dict(
            COMMON,
            num_hidden_layers=4,
            sliding_window=4,
            query_pre_attn_scalar=24,
            attn_logit_softcapping=5.0,
            final_logit_softcapping=3.0,
            hidden_activation="gelu_pytorch_tanh",
            tie_word_embeddings=True,
            initializer_range=0.3,
            pad_token_id=PAD_ID,
        ),
    ),
    "llama": dict(
        model_cls=LlamaForCausalLM,
        config_cls=LlamaConfig,
        config=dict(
            COMMON,
            rope_parameters={
                "rope_type": "llama3",
                "rope_theta": 500000.0,
                "factor": 8.0,
                "low_freq_factor": 1.0,
                "high_freq_factor": 4.0,
                # 64, not Llama-3's 8192, so that at head_dim 16 / theta 5e5 (wavelengths 6.3, 32.5,
                # 168, ...) each llama3 branch is hit: 6.3 < 64/4 unchanged, 16 <= 32.5 <= 64
                # interpolated, the rest > 64 divided by 8.
                "original_max_position_embeddings": 64,
            },
            tie_word_embeddings=False,
            attention_bias=False,
            initializer_range=0.2,
        ),
    ),
    "mistral": dict(
        model_cls=MistralForCausalLM,
        config_cls=MistralConfig,
        config=dict(COMMON, sliding_window=4, tie_word_embeddings=False, initializer_range=0.2),
    ),
    "qwen2": dict(
        model_cls=Qwen2ForCausalLM,
        config_cls=Qwen2Config,
        config=dict(
            COMMON,
            rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
            use_sliding_window=False,
            tie_word_embeddings=False,
            initializer_range=0.2,
        ),
    ),
    # Biases on every projection transformers gives them for: Llama's attention_bias (q, k, v AND
    # o_proj) with mlp_bias (gate, up, down); Gemma-2's attention_bias (q, k, v, o_proj).
    "llama-bias": dict(
        model_cls=LlamaForCausalLM,
        config_cls=LlamaConfig,
        config=dict(
            COMMON,
            num_hidden_layers=2,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
            tie_word_embeddings=False,
            attention_bias=True,
            mlp_bias=True,
            initializer_range=0.2,
        ),
    ),
    "gemma2-bias": dict(
        model_cls=Gemma2ForCausalLM,
        config_cls=Gemma2Config,
        config=dict(
            COMMON,
            num_hidden_layers=2,
            sliding_window=4,
            query_pre_attn_scalar=24,
            attn_logit_softcapping=5.0,
            final_logit_softcapping=3.0,
            hidden_activation="gelu_pytorch_tanh",
            tie_word_embeddings=True,
            attention_bias=True,
            initializer_range=0.3,
            pad_token_id=PAD_ID,
        ),
    ),
}


def family(name: str) -> str:
    """The architecture a fixture name belongs to: gemma2-bias -> gemma2."""
    return name.split("-")[0]


def log(*args) -> None:
    print(*args, flush=True)


def versions() -> dict[str, str]:
    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
    }


# ---------------------------------------------------------------------------------------------
# Model construction
# ---------------------------------------------------------------------------------------------


def build(name: str, **overrides):
    spec = ARCHS[name]
    cfg = spec["config_cls"](**{**spec["config"], **overrides})
    torch.manual_seed(SEED)
    model = spec["model_cls"](cfg)
    model.eval()
    return model


def randomise(name: str, model, seed: int) -> None:
    """Deterministic re-initialisation of every parameter (independent of HF's init code).

    Matrices and embeddings ~ N(0, initializer_range); biases ~ N(0, initializer_range);
    RMSNorm weights ~ N(0, NORM_STD) for Gemma-2 (used as 1 + w) and 1 + N(0, NORM_STD) otherwise.
    Tied parameters appear once in named_parameters() and are drawn once.
    """
    std = model.config.initializer_range
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float64)
            if "norm" in pname:
                value = noise * NORM_STD + (0.0 if family(name) == "gemma2" else 1.0)
            else:
                value = noise * std
            p.copy_(value.to(p.dtype))


def variant(name: str, model, **overrides):
    """A fresh model from the same config with some fields changed, holding the same weights."""
    other = build(name, **overrides)
    other.load_state_dict(model.state_dict(), strict=True)
    return other


# ---------------------------------------------------------------------------------------------
# Inputs and capture
# ---------------------------------------------------------------------------------------------


def make_inputs(vocab: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    B, T = len(LENGTHS), max(LENGTHS)
    ids = torch.randint(1, vocab, (B, T), generator=gen, dtype=torch.int64)
    mask = torch.zeros((B, T), dtype=torch.int64)
    for b, n in enumerate(LENGTHS):
        mask[b, :n] = 1
    ids = torch.where(mask.bool(), ids, torch.full_like(ids, PAD_ID))
    return ids, mask


def run_hooked(name: str, model, ids: torch.Tensor, mask: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """Forward pass with hooks; returns resid_pre/mid/post per layer and logits."""
    store: dict[str, torch.Tensor] = {}
    attn_out: dict[int, torch.Tensor] = {}
    handles = []
    seen_positions: list[torch.Tensor] = []
    for L, layer in enumerate(model.model.layers):

        def pre(mod, args, kwargs, L=L):
            hs = kwargs["hidden_states"] if "hidden_states" in kwargs else args[0]
            store[f"blocks.{L}.hook_resid_pre"] = hs.detach().clone()

        def post(mod, args, kwargs, out, L=L):
            hs = out[0] if isinstance(out, tuple) else out
            store[f"blocks.{L}.hook_resid_post"] = hs.detach().clone()

        def mid(mod, args, L=L):
            store[f"blocks.{L}.hook_resid_mid"] = args[0].detach().clone()

        def attn(mod, args, kwargs, out, L=L):
            attn_out[L] = (out[0] if isinstance(out, tuple) else out).detach().clone()

        mid_module = layer.pre_feedforward_layernorm if family(name) == "gemma2" else layer.post_attention_layernorm
        handles.append(layer.register_forward_pre_hook(pre, with_kwargs=True))
        handles.append(layer.register_forward_hook(post, with_kwargs=True))
        handles.append(mid_module.register_forward_pre_hook(mid))
        handles.append(layer.self_attn.register_forward_hook(attn, with_kwargs=True))

    def rot(mod, args, kwargs):
        pos = kwargs["position_ids"] if "position_ids" in kwargs else args[1]
        seen_positions.append(pos.detach().clone())

    handles.append(model.model.rotary_emb.register_forward_pre_hook(rot, with_kwargs=True))
    try:
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=mask, use_cache=False)
    finally:
        for h in handles:
            h.remove()
    store["logits"] = out.logits.detach().clone()

    # resid_mid cross-check: recompute it from resid_pre and the attention output.
    with torch.no_grad():
        for L, layer in enumerate(model.model.layers):
            a = attn_out[L]
            if family(name) == "gemma2":
                a = layer.post_attention_layernorm(a)
            again = store[f"blocks.{L}.hook_resid_pre"] + a
            assert torch.equal(again, store[f"blocks.{L}.hook_resid_mid"]), f"{name} L{L}: resid_mid mismatch"
            if L > 0:
                assert torch.equal(store[f"blocks.{L - 1}.hook_resid_post"], store[f"blocks.{L}.hook_resid_pre"])
    # HF's default position ids: one row 0..T-1 broadcast over the batch.
    assert len(seen_positions) == 1
    T = ids.shape[1]
    assert torch.equal(seen_positions[0].reshape(-1, T)[0], torch.arange(T)), seen_positions[0]
    return store


def max_abs_real(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    """Max |a - b| over real (mask == 1) positions; a, b are [B, T, ...]."""
    m = mask.bool()
    return float((a[m].double() - b[m].double()).abs().max())


# ---------------------------------------------------------------------------------------------
# Independent float64 re-implementation (the semantics the TypeScript engine implements)
# ---------------------------------------------------------------------------------------------


def inv_freq_of(cfg, branches: list[str] | None = None) -> torch.Tensor:
    rp = cfg.rope_parameters
    hd = cfg.head_dim
    inv = 1.0 / (rp["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    if rp.get("rope_type", "default") == "llama3":
        factor, lo, hi = rp["factor"], rp["low_freq_factor"], rp["high_freq_factor"]
        old = rp["original_max_position_embeddings"]
        out = []
        for f in inv.tolist():
            wavelen = 2 * math.pi / f
            if wavelen < old / hi:  # high frequency: unchanged
                out.append(f)
                kind = "unchanged"
            elif wavelen > old / lo:  # low frequency: divided by factor
                out.append(f / factor)
                kind = "divided"
            else:  # in between: interpolate
                smooth = (old / wavelen - lo) / (hi - lo)
                out.append((1 - smooth) * f / factor + smooth * f)
                kind = "interpolated"
            if branches is not None:
                branches.append(kind)
        inv = torch.tensor(out, dtype=torch.float64)
    else:
        assert rp.get("rope_type", "default") == "default"
    return inv


def window_of(name: str, cfg, L: int) -> int | None:
    name = family(name)
    if name == "gemma2":
        return cfg.sliding_window if cfg.layer_types[L] == "sliding_attention" else None
    if name == "mistral":
        return cfg.sliding_window
    if name == "qwen2":
        assert cfg.sliding_window is None and all(t == "full_attention" for t in cfg.layer_types)
        return None
    return None


def manual_forward(name: str, cfg, sd: dict[str, torch.Tensor], ids: list[int], window_shift: int = 0):
    """One unpadded phrase, positions 0..n-1, float64. Returns {hook name: [n, ...]}."""
    w = {k: v.double() for k, v in sd.items()}
    gemma = family(name) == "gemma2"
    d, H, KV, hd, eps = cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim, cfg.rms_norm_eps
    n = len(ids)

    def rms(x, weight):
        y = x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps)
        return y * ((1.0 + weight) if gemma else weight)

    def lin(x, prefix):
        y = x @ w[prefix + ".weight"].T
        if prefix + ".bias" in w:
            y = y + w[prefix + ".bias"]
        return y

    inv = inv_freq_of(cfg)
    ang = torch.arange(n, dtype=torch.float64)[:, None] * inv[None, :]  # [n, hd/2]
    cos, sin = torch.cos(ang).repeat(1, 2), torch.sin(ang).repeat(1, 2)  # [n, hd]

    def rope(x):  # [heads, n, hd], rotate-half (NeoX) convention
        x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]
        return x * cos + torch.cat((-x2, x1), -1) * sin

    if gemma:
        act = lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
        scale = cfg.query_pre_attn_scalar**-0.5
        cap = cfg.attn_logit_softcapping
    else:
        act = lambda x: x * torch.sigmoid(x)
        scale = hd**-0.5
        cap = None

    out = {}
    x = w["model.embed_tokens.weight"][torch.tensor(ids)]
    if gemma:
        x = x * math.sqrt(d)  # sqrt(64) = 8, exact
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    for L in range(cfg.num_hidden_layers):
        p = f"model.layers.{L}."
        out[f"blocks.{L}.hook_resid_pre"] = x
        h = rms(x, w[p + "input_layernorm.weight"])
        q = lin(h, p + "self_attn.q_proj").view(n, H, hd).transpose(0, 1)
        k = lin(h, p + "self_attn.k_proj").view(n, KV, hd).transpose(0, 1)
        v = lin(h, p + "self_attn.v_proj").view(n, KV, hd).transpose(0, 1)
        q, k = rope(q), rope(k)
        k = k.repeat_interleave(H // KV, dim=0)  # query head h uses kv head h // (H / KV)
        v = v.repeat_interleave(H // KV, dim=0)
        s = (q @ k.transpose(1, 2)) * scale
        if cap is not None:
            s = cap * torch.tanh(s / cap)  # soft-cap before the mask
        allowed = j <= i
        win = window_of(name, cfg, L)
        if win is not None:
            allowed = allowed & (i - j < win + window_shift)  # key j visible iff i - W < j <= i
        s = s.masked_fill(~allowed, float("-inf"))
        a = torch.softmax(s, -1) @ v  # [H, n, hd]
        a = lin(a.transpose(0, 1).reshape(n, H * hd), p + "self_attn.o_proj")
        if gemma:
            a = rms(a, w[p + "post_attention_layernorm.weight"])
        x = x + a
        out[f"blocks.{L}.hook_resid_mid"] = x
        h = rms(x, w[p + ("pre_feedforward_layernorm.weight" if gemma else "post_attention_layernorm.weight")])
        m = lin(act(lin(h, p + "mlp.gate_proj")) * lin(h, p + "mlp.up_proj"), p + "mlp.down_proj")
        if gemma:
            m = rms(m, w[p + "post_feedforward_layernorm.weight"])
        x = x + m
        out[f"blocks.{L}.hook_resid_post"] = x
    head = w["lm_head.weight"] if "lm_head.weight" in w else w["model.embed_tokens.weight"]
    logits = rms(x, w["model.norm.weight"]) @ head.T
    if gemma and cfg.final_logit_softcapping is not None:
        c = cfg.final_logit_softcapping
        logits = c * torch.tanh(logits / c)
    out["logits"] = logits
    return out


def manual_max_diff(name, model, ref, ids, mask, window_shift=0) -> float:
    cfg = model.config
    sd = dict(model.state_dict())
    if cfg.tie_word_embeddings:
        sd.pop("lm_head.weight", None)
    worst = 0.0
    for b, n in enumerate(LENGTHS):
        mine = manual_forward(name, cfg, sd, ids[b, :n].tolist(), window_shift)
        for key, val in mine.items():
            worst = max(worst, float((ref[key][b, :n].double() - val).abs().max()))
    return worst


def attention_pattern_check(name: str, model, ids, mask) -> str:
    """Read HF's eager attention probabilities: which keys does query i see in each layer?"""
    with torch.no_grad():
        out = model(input_ids=ids[:1], attention_mask=mask[:1], output_attentions=True, use_cache=False)
    T = ids.shape[1]
    desc = []
    for L, att in enumerate(out.attentions):
        nz = att[0].abs().sum(0) > 0  # [T, T] over heads
        win = window_of(name, model.config, L)
        expect = torch.tensor([[j <= i and (win is None or i - j < win) for j in range(T)] for i in range(T)])
        assert torch.equal(nz, expect), f"{name} layer {L}: unexpected attention pattern\n{nz.int()}"
        desc.append(f"L{L}:" + ("full" if win is None else f"window{win}"))
    return ",".join(desc)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def save_model_dir(model, folder: Path) -> None:
    model.save_pretrained(folder, safe_serialization=True)
    gen_cfg = folder / "generation_config.json"
    if gen_cfg.exists():
        gen_cfg.unlink()  # not needed by our loader
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors"], list(folder.iterdir())
    os.chmod(folder / "model.safetensors", 0o644)
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["architectures"] == [type(model).__name__], cfg.get("architectures")


def write_reference(folder: Path, ids, mask, store, meta: dict[str, str]) -> None:
    tensors = {"input_ids": ids.contiguous(), "attention_mask": mask.contiguous()}
    for k, v in store.items():
        assert v.dtype == torch.float32, (k, v.dtype)
        tensors[k] = v.contiguous()
    path = folder / "reference.safetensors"
    save_file(tensors, str(path), metadata=meta)
    sort_metadata_keys(path)
    os.chmod(path, 0o644)  # safetensors creates files 0600
    with safe_open(str(path), "pt") as f:
        assert f.metadata() == meta
        for k, v in tensors.items():
            assert torch.equal(f.get_tensor(k), v), k


def check_saved_weights(model, folder: Path, dtype: torch.dtype) -> None:
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        keys = set(f.keys())
        params = dict(model.named_parameters())  # tied weights appear once
        assert keys == set(params), (sorted(keys ^ set(params)))
        for k in keys:
            t = f.get_tensor(k)
            assert t.dtype == dtype, (k, t.dtype)
            assert torch.equal(t, params[k].detach().to(dtype)), k


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (its model subfolders are rewritten)")
    ap.add_argument("--only", nargs="*", choices=list(ARCHS), help="write only these fixtures (the others keep their files)")
    args = ap.parse_args()

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out_root = Path(args.out)
    out_root.mkdir(parents=True, exist_ok=True)
    vers = versions()
    log("versions:", json.dumps(vers))
    summary = {}

    for index, name in enumerate(ARCHS):
        if args.only and name not in args.only:
            continue  # seeds depend on the position in ARCHS, so skipping keeps the others' seeds
        log(f"== {name}")
        model = build(name)
        assert model.config._attn_implementation == "eager"
        randomise(name, model, SEED + 1000 * (index + 1))
        cfg = model.config
        ids, mask = make_inputs(cfg.vocab_size, SEED + 1000 * (index + 1) + 1)
        ref = run_hooked(name, model, ids, mask)
        findings: dict[str, str] = {}

        # Largest |value| at real tokens over all float tensors: tolerances below are relative to it.
        mag = max(float(v[mask.bool()].abs().max()) for v in ref.values())
        tol = 1e-5 * max(mag, 1.0)

        # Each phrase alone (no padding, no mask) must agree with the batch on its real tokens.
        alone = 0.0
        for b, n in enumerate(LENGTHS):
            single = run_hooked(name, model, ids[b : b + 1, :n], None)
            for k, v in single.items():
                alone = max(alone, float((v[0].double() - ref[k][b, :n].double()).abs().max()))
        assert alone < tol, (alone, tol)
        findings["batch_vs_alone_max_abs"] = f"{alone:.3e}"
        log(f"  batch vs each phrase alone (real tokens): max abs {alone:.3e}")

        # Independent float64 re-implementation.
        manual = manual_max_diff(name, model, ref, ids, mask)
        assert manual < tol, (manual, tol)
        findings["independent_f64_reimplementation_max_abs"] = f"{manual:.3e}"
        log(f"  independent float64 re-implementation vs HF: max abs {manual:.3e}")

        pattern = attention_pattern_check(name, model, ids, mask)
        findings["attention_pattern"] = pattern
        log(f"  attention pattern (HF eager probabilities): {pattern}")

        if name.endswith("-bias"):
            # The biases must matter: zero the ones only attention_bias/mlp_bias give (o_proj,
            # gate/up/down; q/k/v too) and the logits must move.
            zero_bias = copy.deepcopy(model)
            with torch.no_grad():
                for pname, p in zero_bias.named_parameters():
                    if pname.endswith(".bias"):
                        p.zero_()
            biases = sorted({p.split(".", 3)[3] for p, _ in model.named_parameters() if p.endswith(".bias")})
            assert any("o_proj" in b for b in biases), biases
            if family(name) == "llama":
                assert any("down_proj" in b for b in biases), biases
            d = max_abs_real(run_hooked(name, zero_bias, ids, mask)["logits"], ref["logits"], mask)
            assert d > 1e-2, d
            findings["biases"] = json.dumps(biases)
            findings["bias_effect_logits_max_abs"] = f"{d:.4f}"
            log(f"  biases {biases} vs zero biases: logits max abs diff {d:.4f}")
            no_o = copy.deepcopy(model)
            with torch.no_grad():
                for pname, p in no_o.named_parameters():
                    if pname.endswith(("o_proj.bias", "gate_proj.bias", "up_proj.bias", "down_proj.bias")):
                        p.zero_()
            d = max_abs_real(run_hooked(name, no_o, ids, mask)["logits"], ref["logits"], mask)
            assert d > 1e-2, d
            findings["o_proj_and_mlp_bias_effect_logits_max_abs"] = f"{d:.4f}"
            log(f"  o_proj (and MLP) biases alone: logits max abs diff {d:.4f}")
        if name in ("gemma2", "mistral"):
            off_by_one = manual_max_diff(name, model, ref, ids, mask, window_shift=1)
            assert off_by_one > 1e-2, off_by_one
            findings["window_of_w_plus_1_keys_would_differ_max_abs"] = f"{off_by_one:.3e}"
            findings["sliding_window_convention"] = (
                f"window W={cfg.sliding_window}: query i sees keys j with i-W < j <= i (W keys, itself included)"
            )
            if name == "mistral":
                findings["sliding_window_applied_by_hf_eager"] = "yes, in every layer"
            log(f"  a window of W+1 keys instead of W would differ by {off_by_one:.3e} (max over all hooks)")
            no_window = variant(name, model, sliding_window=64)
            d = max_abs_real(run_hooked(name, no_window, ids, mask)["logits"], ref["logits"], mask)
            assert d > 1e-2, d
            findings["sliding_window_effect_logits_max_abs"] = f"{d:.4f}"
            log(f"  sliding_window=4 vs 64: logits max abs diff {d:.4f}")
        if name == "gemma2":
            findings["layer_types"] = json.dumps(cfg.layer_types)
            nocap = variant(name, model, attn_logit_softcapping=None, final_logit_softcapping=None)
            d = max_abs_real(run_hooked(name, nocap, ids, mask)["logits"], ref["logits"], mask)
            assert d > 0.1, d
            findings["softcap_effect_logits_max_abs"] = f"{d:.4f}"
            log(f"  both soft-caps vs none: logits max abs diff {d:.4f}")
            no_attn_cap = variant(name, model, attn_logit_softcapping=None)
            d_attn = max_abs_real(run_hooked(name, no_attn_cap, ids, mask)["logits"], ref["logits"], mask)
            assert d_attn > 1e-2, d_attn
            findings["attn_softcap_only_effect_logits_max_abs"] = f"{d_attn:.4f}"
            log(f"  attention soft-cap alone: logits max abs diff {d_attn:.4f}")
            no_final_cap = variant(name, model, final_logit_softcapping=None)
            d_fin = max_abs_real(run_hooked(name, no_final_cap, ids, mask)["logits"], ref["logits"], mask)
            findings["final_softcap_only_effect_logits_max_abs"] = f"{d_fin:.4f}"
            log(f"  final soft-cap alone: logits max abs diff {d_fin:.4f}")
            raw = run_hooked(name, nocap, ids, mask)["logits"][mask.bool()]
            capped = ref["logits"][mask.bool()]
            log(f"  logits without caps: max |x| {float(raw.abs().max()):.2f}; with caps: max |x| "
                f"{float(capped.abs().max()):.4f}, share above 2.9: {float((capped.abs() > 2.9).double().mean()):.3f}")
            other_scalar = variant(name, model, query_pre_attn_scalar=16)
            d = max_abs_real(run_hooked(name, other_scalar, ids, mask)["logits"], ref["logits"], mask)
            assert d > 1e-2, d
            findings["query_pre_attn_scalar_24_vs_16_logits_max_abs"] = f"{d:.4f}"
            log(f"  query_pre_attn_scalar 24 vs 16 (=head_dim): logits max abs diff {d:.4f}")
        if name == "llama":
            plain = variant(name, model, rope_parameters={"rope_type": "default", "rope_theta": 500000.0})
            d = max_abs_real(run_hooked(name, plain, ids, mask)["logits"], ref["logits"], mask)
            assert d > 1e-2, d
            findings["llama3_rope_scaling_effect_logits_max_abs"] = f"{d:.4f}"
            inv_hf = model.model.rotary_emb.inv_freq.double()
            branches: list[str] = []
            inv_mine = inv_freq_of(cfg, branches)
            assert torch.allclose(inv_hf, inv_mine, rtol=1e-6, atol=0), (inv_hf, inv_mine)
            assert set(branches) == {"unchanged", "interpolated", "divided"}, branches
            findings["llama3_branches"] = json.dumps(branches)
            log(f"  llama3 branch per frequency: {branches}")
            findings["llama3_inv_freq"] = json.dumps([float(f"{v:.9g}") for v in inv_hf.tolist()])
            log(f"  llama3 scaling vs plain RoPE: logits max abs diff {d:.4f}")
            log(f"  inv_freq (HF, float32): {findings['llama3_inv_freq']}")
        if name == "qwen2":
            findings["use_sliding_window"] = str(cfg.use_sliding_window)
            findings["sliding_window_in_config"] = str(cfg.sliding_window)
            zero_bias = copy.deepcopy(model)
            with torch.no_grad():
                for pname, p in zero_bias.named_parameters():
                    if pname.endswith(".bias"):
                        p.zero_()
            d = max_abs_real(run_hooked(name, zero_bias, ids, mask)["logits"], ref["logits"], mask)
            assert d > 1e-2, d
            findings["qkv_bias_effect_logits_max_abs"] = f"{d:.4f}"
            log(f"  q/k/v biases vs zero biases: logits max abs diff {d:.4f}")

        folder = out_root / name
        if folder.exists():
            shutil.rmtree(folder)
        save_model_dir(model, folder)
        check_saved_weights(model, folder, torch.float32)
        meta = {
            "generator": GENERATOR,
            "description": (
                f"HF transformers {type(model).__name__} (eager attention, float32, CPU), random weights; "
                "resid_pre/resid_post = decoder layer input/output via forward hooks; resid_mid = residual "
                "after the attention sub-block (input of "
                + ("pre_feedforward_layernorm" if family(name) == "gemma2" else "post_attention_layernorm")
                + "); logits after final soft-capping if any. Values at attention_mask==0 are not meaningful."
            ),
            **vers,
            "seed": str(SEED),
            "padding": "right",
            "pad_token_id": str(PAD_ID),
            "lengths": json.dumps(list(LENGTHS)),
            "weights_dtype": "float32",
            "activations_dtype": "float32",
            **findings,
        }
        write_reference(folder, ids, mask, ref, meta)
        summary[name] = findings

        if name == "gemma2":
            log("== gemma2-bf16")
            rounded = copy.deepcopy(model)  # buffers (inv_freq, embed_scale) stay float32
            with torch.no_grad():
                for p in rounded.parameters():
                    p.copy_(p.to(torch.bfloat16).to(torch.float32))
            ref_bf = run_hooked(name, rounded, ids, mask)
            diff = {k: max_abs_real(ref_bf[k], ref[k], mask) for k in ref}
            worst_key = max(diff, key=diff.get)
            d_logits = diff["logits"]
            d_resid = max(v for k, v in diff.items() if k != "logits")
            log(f"  bf16-rounded weights vs f32 weights: logits max abs {d_logits:.4f}, "
                f"resid max abs {d_resid:.4f} (worst {worst_key})")
            rel = {
                k: diff[k] / float(ref[k][mask.bool()].abs().max()) for k in ref
            }
            log(f"  relative to max |value|: logits {rel['logits']:.4f}, worst {max(rel.values()):.4f}")
            bf_manual = manual_max_diff(name, rounded, ref_bf, ids, mask)
            assert bf_manual < tol, (bf_manual, tol)
            to_save = copy.deepcopy(model)
            with torch.no_grad():
                for p in to_save.parameters():
                    p.data = p.data.to(torch.bfloat16)
            bf_folder = out_root / "gemma2-bf16"
            if bf_folder.exists():
                shutil.rmtree(bf_folder)
            save_model_dir(to_save, bf_folder)
            assert json.loads((bf_folder / "config.json").read_text())["dtype"] == "bfloat16"
            check_saved_weights(to_save, bf_folder, torch.bfloat16)
            bf_findings = {
                "bf16_vs_f32_logits_max_abs": f"{d_logits:.4f}",
                "bf16_vs_f32_resid_max_abs": f"{d_resid:.4f}",
                "bf16_vs_f32_max_relative": f"{max(rel.values()):.4f}",
                "independent_f64_reimplementation_max_abs": f"{bf_manual:.3e}",
                "layer_types": findings["layer_types"],
            }
            bf_meta = dict(meta)
            bf_meta.update(
                description=(
                    "Same Gemma-2 model and inputs as ../gemma2, weights rounded to bfloat16 (round to nearest even) "
                    "and stored as BF16; reference computed by HF in float32 from the rounded weights upcast to "
                    "float32 (RoPE inv_freq and embed_scale buffers kept float32). Same hooks as ../gemma2. "
                    "Values at attention_mask==0 are not meaningful."
                ),
                weights_dtype="bfloat16",
                **bf_findings,
            )
            write_reference(bf_folder, ids, mask, ref_bf, bf_meta)
            summary["gemma2-bf16"] = bf_findings

    log("summary:", json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
