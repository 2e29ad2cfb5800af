#!/usr/bin/env python3
"""Reference for the activation-aware LoRA fine-tuning loss and its gradients (PyTorch autograd,
float32 and float64, checked by central finite differences in float64).

For each base in (gemma2, llama) (the tiny random models of make_model_fixtures.py) this writes
`test/fixtures/finetune/<base>/`:

    adapter/adapter_config.json, adapter/adapter_model.safetensors
        PEFT LoRA (r 4, lora_alpha 8, scaling 2, all seven linears; gemma2 layers_to_transform
        [0, 1, 2], llama every layer), seeded non-zero A ~ N(0, 1/sqrt(in)), B ~ N(0, b_std), saved
        by `save_pretrained` and reloaded by `PeftModel.from_pretrained` with warnings as errors.
        Every number below is computed from the RELOADED adapter.
    saes/layer_<L>/cfg.json, saes/layer_<L>/sae_weights.safetensors
        SAELens JumpReLU SAEs (written by SAELens's `save_model`, reloaded by `SAE.load_from_disk`)
        on blocks.<L>.hook_resid_post for the loss layers (gemma2 1, 2; llama 0, 2).
    reference.safetensors
        pairs.en_ids / pairs.tgt_ids     int64 [P, Tmax]  BOS first, right-padded with 0
        pairs.en_len / pairs.tgt_len     int64 [P]
        <v>.loss, <v>.term1, <v>.term2   float32 [1]      float32 forward (term2 without alpha)
        <v>.uorig.<L>, <v>.mask.<L>      float32 [P, F]   frozen-base reduced phrase and the weights w
        <v>.grad.<peft key>              float32          dL/d(LoRA tensor) by autograd in float32
        <v>.fd.dir<k>.<peft key>         float64          direction k = 0, 1, 2 (unit norm over all tensors)
        <v>.fd.value                     float64 [3]      (L64(θ+hD) - L64(θ-hD)) / 2h, h = 1e-5
        <v>.fd.autograd64                float64 [3]      Σ grad64 · D_k (float64 autograd)

THE LOSS (P pairs (e_p, t_p); loss layers l, each with its SAE; counted tokens = every token but
position 0, the BOS; x = the output of decoder layer l, NOT HF's hidden_states[-1], which carries
the final norm):
    pre = x @ W_enc + b_enc
    z   = relu(pre) * (pre > threshold)   space "sae-codes"
        = pre                             space "sae-preacts"
        = x                               space "residual"
    r   = mean over counted tokens ("mean") or elementwise max ("max")
    u_l[p] = r(z(e_p), adapted), v_l[p] = r(z(t_p), adapted), uorig_l[p] = r(z(e_p), adapter disabled)
    w_l[p, f] = 1 ("all") or [r(codes(e_p), adapter disabled)_f > 0] ("english-active")
    n_l[p] = max(Σ_f w_l[p, f], 1) ("mean") or 1 ("sum")
    term1_l = 1/P Σ_p 1/n_l[p] Σ_f w_l[p,f] |u_l[p,f] - v_l[p,f]|
    term2_l = 1/P Σ_p 1/n_l[p] Σ_f w_l[p,f] (u_l[p,f] - uorig_l[p,f])^2
    L = Σ_l (term1_l + alpha term2_l)
    direction "target-only": term1 uses u.detach(); "both": no detach.

For "target-only" the autograd vector is not the gradient of L (u's path in term1 is cut), so the
finite differences there are taken of S(θ) = Σ_l term1_l(u fixed at its value at θ0, v(θ)) +
alpha term2_l(θ), whose gradient at θ0 is exactly that vector and whose value at θ0 is L(θ0).

A direction is used only if the piecewise parts of the loss are the same at θ-hD, θ0 and θ+hD
(every JumpReLU gate and relu sign, every max's argmax, every sign of u - v); otherwise the
direction is drawn again with the next seed.

Usage (from the repository root; needs torch, transformers, peft, sae-lens, safetensors, numpy):
    ~/.venvs/ref/bin/python scripts/reference/make_finetune_fixtures.py [--out test/fixtures/finetune]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import types
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import peft
import sae_lens
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors import safe_open
from safetensors.torch import save_file
from sae_lens import SAE
from sae_lens.saes import JumpReLUSAE, JumpReLUSAEConfig
from sae_lens.saes.sae import SAEMetadata
from transformers import AutoModelForCausalLM

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deterministic_safetensors import sort_metadata_keys  # noqa: E402
from make_model_fixtures import versions  # noqa: E402

GENERATOR = "scripts/reference/make_finetune_fixtures.py"
DEFAULT_OUT = "test/fixtures/finetune"
BASES = Path("test/fixtures/models")
SEED = 20261213
ALL7 = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SPECS = {
    # b_std: Llama's residual stream is ~8x smaller than Gemma-2's (no sqrt(d) embedding scale),
    # so the same B would move it by 40-60 %; these move resid_post by 10-25 %.
    "gemma2": dict(loss_layers=[1, 2], layers_to_transform=[0, 1, 2], b_std=0.05),
    "llama": dict(loss_layers=[0, 2], layers_to_transform=None, b_std=0.02),
}
EN_LENGTHS = (11, 6, 8)  # > the sliding window 4, so Gemma-2's window matters
TGT_LENGTHS = (9, 5, 11)
FIRST_ID = 3  # token ids drawn from [3, vocab): no pad/bos/eos inside a phrase
D_SAE = 128
CALIB_SEQS, CALIB_LEN = 24, 11
FIRE_LEVELS = (0.5, 0.8)  # per-feature quantile of its threshold: 20-50 % of tokens fire
NEGATIVE_THRESHOLDS = 8  # features whose threshold is at quantile 0.3 (< 0: relu and gate both matter)
MARGIN = 5e-3  # min |pre - threshold| relative to the pre-activation std, at every token used here
FD_H = 1e-5
FD_TOL = 1e-6
KINK_MARGIN = 1e-3  # absolute, in the units of z
SMALL_PROJECTION = 0.2  # a direction must have |grad . D| >= 0.2 |grad| / sqrt(#params)
N_DIRS = 3

VARIANTS = [
    dict(name="v0", space="sae-codes", reduction="mean", direction="both", normalisation="mean", features="all", alpha=0.5),
    dict(name="v1", space="sae-codes", reduction="max", direction="target-only", normalisation="sum", features="english-active", alpha=2.0),
    dict(name="v2", space="sae-preacts", reduction="mean", direction="both", normalisation="mean", features="all", alpha=1.0),
    dict(name="v3", space="residual", reduction="mean", direction="both", normalisation="sum", features="all", alpha=0.25),
]


def log(*args) -> None:
    print(*args, flush=True)


# ---------------------------------------------------------------------------------------------
# Models, adapter, inputs
# ---------------------------------------------------------------------------------------------


def load_base(base: str):
    model = AutoModelForCausalLM.from_pretrained(str(BASES / base), attn_implementation="eager", dtype=torch.float32)
    model.eval()
    return model


def make_pairs(vocab: int, bos: int, seed: int) -> list[tuple[list[int], list[int]]]:
    gen = torch.Generator().manual_seed(seed)
    pairs = []
    for n_en, n_tgt in zip(EN_LENGTHS, TGT_LENGTHS):
        en = [bos] + torch.randint(FIRST_ID, vocab, (n_en - 1,), generator=gen).tolist()
        tgt = [bos] + torch.randint(FIRST_ID, vocab, (n_tgt - 1,), generator=gen).tolist()
        pairs.append((en, tgt))
    seqs = [tuple(s) for pair in pairs for s in pair]
    assert len(set(seqs)) == len(seqs)
    return pairs


def peft_key(param_name: str) -> str:
    """PEFT's in-memory name -> the key in adapter_model.safetensors (adapter name dropped)."""
    key = param_name.replace(".lora_A.default.", ".lora_A.").replace(".lora_B.default.", ".lora_B.")
    assert key != param_name, param_name
    return key


def lora_params(model) -> dict[str, torch.nn.Parameter]:
    out = {peft_key(n): p for n, p in model.named_parameters() if ".lora_A." in n or ".lora_B." in n}
    assert all(p.requires_grad for p in out.values())
    others = [n for n, p in model.named_parameters() if p.requires_grad and ".lora_" not in n]
    assert not others, others
    return dict(sorted(out.items()))


def randomise_lora(model, seed: int, b_std: float) -> None:
    """A ~ N(0, 1/sqrt(in_features)), B ~ N(0, b_std): B non-zero, or the adapter would be a no-op."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for key, p in lora_params(model).items():
            std = p.shape[1] ** -0.5 if ".lora_A." in key else b_std
            p.copy_((torch.randn(p.shape, generator=gen, dtype=torch.float64) * std).to(p.dtype))


def save_adapter(base: str, seed: int, folder: Path) -> None:
    spec = SPECS[base]
    extra = {} if spec["layers_to_transform"] is None else {"layers_to_transform": spec["layers_to_transform"]}
    cfg = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, task_type="CAUSAL_LM", target_modules=ALL7, **extra)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`is_gradient_checkpointing` is deprecated", category=FutureWarning)
        model = get_peft_model(load_base(base), cfg)
    randomise_lora(model, seed, spec["b_std"])
    folder.mkdir(parents=True)
    model.save_pretrained(str(folder), safe_serialization=True)
    readme = folder / "README.md"
    if readme.exists():
        readme.unlink()
    config_path = folder / "adapter_config.json"
    written = json.loads(config_path.read_text())
    written["base_model_name_or_path"] = str(BASES / base)  # not this machine's absolute path
    written["target_modules"] = sorted(written["target_modules"])  # a set in PEFT: hash-seed order
    config_path.write_text(json.dumps(written, indent=2, sort_keys=True))
    assert sorted(p.name for p in folder.iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    os.chmod(folder / "adapter_model.safetensors", 0o644)
    with safe_open(str(folder / "adapter_model.safetensors"), "pt") as f:
        mine = lora_params(model)
        assert set(f.keys()) == set(mine), sorted(set(f.keys()) ^ set(mine))
        for k in f.keys():
            assert torch.equal(f.get_tensor(k), mine[k].detach()), k


def _softmax_keeping_float64(fn):
    """HF's eager attention calls softmax(..., dtype=torch.float32): a float64 input would be
    rounded to float32 there. Float64 inputs keep float64; every other call is unchanged."""

    def softmax(input, dim=None, _stacklevel=3, dtype=None):
        if dtype == torch.float32 and input.dtype == torch.float64:
            dtype = torch.float64
        return fn(input, dim=dim, _stacklevel=_stacklevel, dtype=dtype)

    softmax.keeps_float64 = True
    return softmax


def keep_float64(model) -> int:
    """Make HF's float64 model compute in float64 (HF upcasts to float32 only): RMSNorm as
    x * rsqrt(mean(x^2) + eps) * (1 + w) (Gemma-2) or w * (x * rsqrt(mean(x^2) + eps)) (Llama), in
    the input dtype; softmax see _softmax_keeping_float64. RoPE's cos/sin stay HF's float32 values
    (they do not depend on the LoRA weights, so finite differences are not affected)."""
    if not getattr(torch.nn.functional.softmax, "keeps_float64", False):
        torch.nn.functional.softmax = _softmax_keeping_float64(torch.nn.functional.softmax)
    n = 0
    for mod in model.modules():
        kind = type(mod).__name__
        if kind == "Gemma2RMSNorm":
            mod.forward = types.MethodType(lambda self, x: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * (1.0 + self.weight), mod)
        elif kind == "LlamaRMSNorm":
            mod.forward = types.MethodType(lambda self, x: self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.variance_epsilon)), mod)
        else:
            assert "Norm" not in kind, kind
            continue
        n += 1
    return n


def load_adapted(base: str, folder: Path, dtype: torch.dtype):
    """PeftModel.from_pretrained with every warning an error (PEFT only warns on missing keys),
    but for transformers 5.24's deprecation notice that PEFT 0.21.2's own constructor triggers."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=r"`is_gradient_checkpointing` is deprecated", category=FutureWarning)
        model = PeftModel.from_pretrained(load_base(base), str(folder), is_trainable=True)
    model.eval()
    if dtype != torch.float32:
        model = model.to(dtype)
        assert keep_float64(model) > 0
    assert all(p.dtype == dtype for p in model.parameters())
    with safe_open(str(folder / "adapter_model.safetensors"), "pt") as f:
        params = lora_params(model)
        assert set(f.keys()) == set(params)
        for k in f.keys():
            assert torch.equal(f.get_tensor(k).to(dtype), params[k].detach()), k
    n_layers = model.base_model.model.config.num_hidden_layers
    wanted = SPECS[base]["layers_to_transform"] or list(range(n_layers))
    assert len(params) == 2 * len(ALL7) * len(wanted), len(params)
    assert {int(k.split(".layers.")[1].split(".")[0]) for k in params} == set(wanted)
    return model


def resid_posts(hf_model, ids: list[int], layers: list[int], hidden_states: bool = False) -> dict[int, torch.Tensor]:
    """Output of decoder layer L for one unpadded phrase, [n, d], still attached to the graph.

    hidden_states=True reads HF's output_hidden_states[L + 1] instead (a WRONG reading for the last
    layer, where HF puts the final-norm output; kept only to show that it differs)."""
    x = torch.tensor([ids], dtype=torch.int64)
    if hidden_states:
        out = hf_model(input_ids=x, use_cache=False, output_hidden_states=True)
        return {L: out.hidden_states[L + 1][0] for L in layers}
    store: dict[int, torch.Tensor] = {}
    handles = []
    for L in layers:

        def post(mod, args, kwargs, out, L=L):
            store[L] = (out[0] if isinstance(out, tuple) else out)[0]

        handles.append(hf_model.model.layers[L].register_forward_hook(post, with_kwargs=True))
    try:
        hf_model(input_ids=x, use_cache=False)
    finally:
        for h in handles:
            h.remove()
    return store


# ---------------------------------------------------------------------------------------------
# SAEs
# ---------------------------------------------------------------------------------------------


def mid_gap(values: torch.Tensor, near: float, margin: float) -> float:
    """The middle of the gap between two neighbouring values (or beyond the extremes) that is wider
    than 2 margin and whose middle is nearest to `near`."""
    s = values.sort().values
    lo = torch.cat([torch.tensor([float("-inf")], dtype=s.dtype), s])
    hi = torch.cat([s, torch.tensor([float("inf")], dtype=s.dtype)])
    mids = torch.where(torch.isinf(lo), hi - 2 * margin, torch.where(torch.isinf(hi), lo + 2 * margin, (lo + hi) / 2))
    ok = (hi - lo) > 2 * margin
    assert bool(ok.any())
    dist = torch.where(ok, (mids - near).abs(), torch.full_like(mids, float("inf")))
    return float(mids[int(dist.argmin())])


def make_sae(base: str, layer: int, samples: list[torch.Tensor], seed: int, folder: Path) -> dict[str, str]:
    """Random SAELens JumpReLU SAE; b_enc centres each feature's pre-activation, thresholds sit in
    gaps of the pre-activations of `samples` (every token of every phrase this fixture runs)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.cat(samples).double()
    d_in = x.shape[1]
    direction = torch.randn(D_SAE, d_in, generator=gen, dtype=torch.float64)
    direction = direction / direction.norm(dim=-1, keepdim=True)
    w_dec = direction * (0.5 + 1.5 * torch.rand(D_SAE, 1, generator=gen, dtype=torch.float64))
    w_enc = torch.randn(d_in, D_SAE, generator=gen, dtype=torch.float64) / d_in**0.5
    b_dec = 0.1 * float(x.std()) * torch.randn(d_in, generator=gen, dtype=torch.float64)
    pre0 = x @ w_enc.float().double()
    pre_std = float(pre0.std())
    b_enc = -pre0.median(dim=0).values + 0.1 * pre_std * torch.randn(D_SAE, generator=gen, dtype=torch.float64)
    # Then each feature is shifted so that 0 sits in a gap too: relu's kink is as far from every
    # pre-activation as the thresholds are (it matters where a threshold is negative).
    shifted_pre = pre0 + b_enc
    for i in range(D_SAE):
        b_enc[i] -= mid_gap(shifted_pre[:, i], 0.0, MARGIN * pre_std)
    b_enc = b_enc.float().double()
    pre = pre0 + b_enc
    levels = FIRE_LEVELS[0] + (FIRE_LEVELS[1] - FIRE_LEVELS[0]) * torch.rand(D_SAE, generator=gen, dtype=torch.float64)
    negative = torch.randperm(D_SAE, generator=gen)[:NEGATIVE_THRESHOLDS]
    levels[negative] = 0.3
    n = pre.shape[0]
    threshold = torch.empty(D_SAE, dtype=torch.float64)
    for i in range(D_SAE):
        at_level = float(pre[:, i].sort().values[int(round(float(levels[i]) * (n - 1)))])
        threshold[i] = mid_gap(pre[:, i], at_level, MARGIN * pre_std)

    metadata = SAEMetadata(
        model_name=f"{base}-fixture",
        hook_name=f"blocks.{layer}.hook_resid_post",
        hook_head_index=None,
        prepend_bos=True,
        context_size=max(max(EN_LENGTHS), max(TGT_LENGTHS)),
    )
    cfg = JumpReLUSAEConfig(
        d_in=d_in, d_sae=D_SAE, dtype="float32", device="cpu", apply_b_dec_to_input=False,
        normalize_activations="none", metadata=metadata,
    )
    torch.manual_seed(seed)  # SAELens's own init; every value is overwritten
    sae = JumpReLUSAE(cfg)
    with torch.no_grad():
        for name, value in (("W_enc", w_enc), ("W_dec", w_dec), ("b_enc", b_enc), ("b_dec", b_dec), ("threshold", threshold)):
            getattr(sae, name).copy_(value.float())
    weights_path, cfg_path = sae.save_model(folder)
    os.chmod(weights_path, 0o644)
    os.chmod(cfg_path, 0o644)
    assert sorted(p.name for p in folder.iterdir()) == ["cfg.json", "sae_weights.safetensors"]
    written = json.loads(cfg_path.read_text())
    assert written["architecture"] == "jumprelu" and written["apply_b_dec_to_input"] is False
    assert written["normalize_activations"] == "none" and written["metadata"]["hook_name"] == f"blocks.{layer}.hook_resid_post"
    pre32 = x.float() @ sae.W_enc.detach() + sae.b_enc.detach()
    thr = sae.threshold.detach()
    margin = float(((pre32.double() - thr.double()).abs().min()) / pre_std)
    zero_margin = float(pre32.double().abs().min() / pre_std)
    assert margin > 0.9 * MARGIN and zero_margin > 0.9 * MARGIN, (margin, zero_margin)
    return {
        "negative_thresholds": str(int((thr < 0).sum())),
        "min_abs_pre_minus_threshold_over_pre_std": f"{margin:.3e}",
        "min_abs_pre_over_pre_std": f"{zero_margin:.3e}",
        "pre_std": f"{pre_std:.4g}",
        "calibration_tokens": str(n),
    }


def load_sae(folder: Path, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    with safe_open(str(folder / "sae_weights.safetensors"), "pt") as f:
        return {k: f.get_tensor(k).to(dtype) for k in ("W_enc", "b_enc", "threshold")}


# ---------------------------------------------------------------------------------------------
# The loss
# ---------------------------------------------------------------------------------------------


def space_z(x: torch.Tensor, sae: dict[str, torch.Tensor], space: str, sig: list | None):
    """x [n, d] -> z [n, F]."""
    if space == "residual":
        return x
    pre = x @ sae["W_enc"] + sae["b_enc"]
    if space == "sae-preacts":
        return pre
    assert space == "sae-codes", space
    gate = pre > sae["threshold"]
    if sig is not None:
        sig.append(gate)
        sig.append(pre > 0)
    return torch.relu(pre) * gate.to(pre.dtype)


def reduce(z: torch.Tensor, reduction: str, sig: list | None) -> torch.Tensor:
    if reduction == "mean":
        return z.mean(0)
    assert reduction == "max", reduction
    m = z.max(0)
    if sig is not None:
        sig.append(m.indices)
    return m.values


def phrase(hf_model, ids, layers, saes, space, reduction, sig, count_bos=False, hidden_states=False):
    xs = resid_posts(hf_model, ids, layers, hidden_states)
    start = 0 if count_bos else 1
    return {L: reduce(space_z(xs[L][start:], saes[L], space, sig), reduction, sig) for L in layers}


def evaluate(model, saes, pairs, var, u_fixed=None, count_bos=False, hidden_states=False, normalisation=None):
    """The loss of one variant. Returns value, term1, term2 (summed over layers, term2 without
    alpha), per-layer u / uorig / w, and the signature of its piecewise parts."""
    hf = model.base_model.model
    layers = sorted(saes)
    sp, red = var["space"], var["reduction"]
    normalisation = normalisation or var["normalisation"]
    sig: list[torch.Tensor] = []
    with model.disable_adapter(), torch.no_grad():
        frozen = [phrase(hf, en, layers, saes, sp, red, None, count_bos, hidden_states) for en, _ in pairs]
        if var["features"] == "english-active":
            codes = [phrase(hf, en, layers, saes, "sae-codes", red, None, count_bos, hidden_states) for en, _ in pairs]
    u = [phrase(hf, en, layers, saes, sp, red, sig, count_bos, hidden_states) for en, _ in pairs]
    v = [phrase(hf, tgt, layers, saes, sp, red, sig, count_bos, hidden_states) for _, tgt in pairs]
    term1 = term2 = 0.0
    out = {"u": {}, "uorig": {}, "w": {}}
    for L in layers:
        U = torch.stack([row[L] for row in u])
        V = torch.stack([row[L] for row in v])
        Uo = torch.stack([row[L] for row in frozen])
        if var["features"] == "all":
            W = torch.ones_like(Uo)
        else:
            assert var["features"] == "english-active" and sp == "sae-codes"
            W = (torch.stack([row[L] for row in codes]) > 0).to(Uo.dtype)
        n = W.sum(1).clamp(min=1) if normalisation == "mean" else torch.ones(W.shape[0], dtype=W.dtype)
        if u_fixed is not None:
            Ut = u_fixed[L]
        else:
            Ut = U.detach() if var["direction"] == "target-only" else U
        assert var["direction"] in ("both", "target-only")
        sig.append(torch.sign(Ut - V).to(torch.int8))
        term1 = term1 + ((W * (Ut - V).abs()).sum(1) / n).mean()
        term2 = term2 + ((W * (U - Uo) ** 2).sum(1) / n).mean()
        out["u"][L], out["uorig"][L], out["w"][L] = U.detach(), Uo, W
        out.setdefault("v", {})[L] = V.detach()
    out.update(loss=term1 + var["alpha"] * term2, term1=term1, term2=term2, sig=sig)
    return out


def near_kinks(model, saes, pairs, var, r) -> dict[str, float]:
    """How far this fixture stays from the loss's kinks, relative to the values' scale, so that an
    implementation with another summation order takes the same branches: the smallest non-zero
    |u - v|, and for "max" the smallest gap between the largest and second largest token value."""
    out = {}
    layers = sorted(saes)
    diffs, scale, exact = [], 0.0, 0
    for L in layers:
        d = (r["u"][L] - r["v"][L]).abs()
        exact += int((d == 0).sum())
        diffs.append(d[d > 0])
        scale = max(scale, float(r["u"][L].abs().max()), float(r["v"][L].abs().max()))
    out["min_nonzero_abs_u_minus_v"] = float(torch.cat(diffs).min())
    out["min_nonzero_abs_u_minus_v_rel"] = out["min_nonzero_abs_u_minus_v"] / scale
    out["u_equals_v_exactly"] = exact  # both 0 (no token fires in either phrase): sign(0) = 0
    if var["reduction"] == "max":
        hf = model.base_model.model
        gaps, rel = [], []
        with torch.no_grad():
            runs = [(hf, s) for pair in pairs for s in pair]
            with model.disable_adapter():
                frozen = [resid_posts(hf, en, layers) for en, _ in pairs]
            xs = [resid_posts(m, s, layers) for m, s in runs] + frozen
            for x in xs:
                for L in layers:
                    z = space_z(x[L][1:], saes[L], var["space"], None)
                    top = z.topk(2, dim=0).values
                    live = top[0] > 0 if var["space"] == "sae-codes" else torch.ones_like(top[0], dtype=torch.bool)
                    gaps.append((top[0] - top[1])[live])
                    rel.append(((top[0] - top[1]) / z.abs().max())[live])
        out["min_argmax_gap"] = float(torch.cat(gaps).min())
        out["min_argmax_gap_rel"] = float(torch.cat(rel).min())
    return out


def same_signature(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


def grads(model, loss) -> dict[str, torch.Tensor]:
    params = lora_params(model)
    model.zero_grad(set_to_none=True)
    loss.backward()
    out = {}
    for k, p in params.items():
        assert p.grad is not None, f"no gradient reaches {k}"
        out[k] = p.grad.detach().clone()
    model.zero_grad(set_to_none=True)
    return out


def direction(keys_shapes: dict[str, torch.Size], seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    d = {k: torch.randn(s, generator=gen, dtype=torch.float64) for k, s in keys_shapes.items()}
    norm = sum(float((t * t).sum()) for t in d.values()) ** 0.5
    return {k: t / norm for k, t in d.items()}


def shifted(model, d: dict[str, torch.Tensor], step: float, fn):
    """fn() evaluated at θ + step·d; θ is restored bit for bit afterwards."""
    params = lora_params(model)
    saved = {k: p.detach().clone() for k, p in params.items()}
    with torch.no_grad():
        for k, p in params.items():
            p.add_(d[k] * step)
    try:
        return fn()
    finally:
        with torch.no_grad():
            for k, p in params.items():
                p.copy_(saved[k])


def finite_differences(model64, saes64, pairs, var, g64, seed: int):
    """N_DIRS central differences of L64 (of S for target-only, see the module docstring)."""
    at0 = evaluate(model64, saes64, pairs, var)
    u_fixed = at0["u"] if var["direction"] == "target-only" else None
    shapes = {k: p.shape for k, p in lora_params(model64).items()}
    dirs, fd, ad, used_seeds, rejected, small = [], [], [], [], 0, 0
    g_norm = sum(float((g * g).sum()) for g in g64.values()) ** 0.5
    n_params = sum(g.numel() for g in g64.values())
    attempt = 0
    while len(dirs) < N_DIRS:
        s = seed + attempt
        attempt += 1
        assert attempt < 50, "too many directions cross a kink"
        d = direction(shapes, s)
        with torch.no_grad():
            plus = shifted(model64, d, FD_H, lambda: evaluate(model64, saes64, pairs, var, u_fixed=u_fixed))
            minus = shifted(model64, d, -FD_H, lambda: evaluate(model64, saes64, pairs, var, u_fixed=u_fixed))
        if not (same_signature(plus["sig"], at0["sig"]) and same_signature(minus["sig"], at0["sig"])):
            rejected += 1
            continue
        auto = sum(float((g64[k] * d[k]).sum()) for k in d)
        if abs(auto) < SMALL_PROJECTION * g_norm / n_params**0.5:
            # Nearly orthogonal to the gradient: rounding in L64 (~1e-16 |L| / h) would dominate a
            # relative comparison, here and in any test that uses the direction.
            small += 1
            continue
        value = (float(plus["loss"]) - float(minus["loss"])) / (2 * FD_H)
        rel = abs(value - auto) / abs(auto)
        assert rel < FD_TOL, (var["name"], s, value, auto, rel)
        dirs.append(d)
        fd.append(value)
        ad.append(auto)
        used_seeds.append(s)
    return dirs, fd, ad, used_seeds, {"crossing_a_kink": rejected, "nearly_orthogonal": small}


# ---------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------


def calibrate(base, folder, plain, model, pairs, calib, seed):
    """SAEs for the loss layers, calibrated on the residuals of the calibration phrases (base model)
    and of every phrase of the pairs (base and adapted model), so that no pre-activation this fixture
    meets lies near a threshold or near 0. Returns notes, float32 and float64 SAE tensors."""
    layers = SPECS[base]["loss_layers"]
    hf = model.base_model.model
    phrases = [s for pair in pairs for s in pair]
    samples = {L: [] for L in layers}
    with torch.no_grad():
        for ids in calib + phrases:
            for L, x in resid_posts(plain, ids, layers).items():
                samples[L].append(x)
        for ids in phrases:
            for L, x in resid_posts(hf, ids, layers).items():
                samples[L].append(x)
    if (folder / "saes").exists():
        shutil.rmtree(folder / "saes")
    notes, saes32, saes64 = {}, {}, {}
    for L in layers:
        sfolder = folder / "saes" / f"layer_{L}"
        notes[L] = make_sae(base, L, samples[L], seed + 10 + L, sfolder)
        loaded = SAE.load_from_disk(str(sfolder))
        assert type(loaded) is JumpReLUSAE, type(loaded)
        saes32[L], saes64[L] = load_sae(sfolder, torch.float32), load_sae(sfolder, torch.float64)
        # Our sae-codes formula is SAELens's encode.
        with torch.no_grad():
            x = torch.cat(samples[L])
            mine = space_z(x, saes32[L], "sae-codes", None)
            theirs = loaded.encode(x)
        assert torch.allclose(mine, theirs, rtol=1e-6, atol=1e-6), float((mine - theirs).abs().max())
        assert torch.equal(mine > 0, theirs > 0)
        with torch.no_grad():
            fired = {
                tag: float(torch.cat([(space_z(resid_posts(m, ids, [L])[L][1:], saes32[L], "sae-codes", None) > 0).double().mean(1)
                                      for ids in phrases]).mean())
                for tag, m in (("base", plain), ("adapted", hf))
            }
        notes[L]["fired_fraction_per_token"] = json.dumps({k: round(v, 4) for k, v in fired.items()})
        assert all(0.2 <= f <= 0.5 for f in fired.values()), fired
    return notes, saes32, saes64


def build_base(index: int, base: str, out_root: Path, vers: dict[str, str]) -> dict:
    log(f"== {base}")
    seed = SEED + 1000 * index
    folder = out_root / base
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    layers = SPECS[base]["loss_layers"]
    plain = load_base(base)
    cfg = plain.config
    bos = int(cfg.bos_token_id)

    save_adapter(base, seed + 2, folder / "adapter")
    model = load_adapted(base, folder / "adapter", torch.float32)
    hf = model.base_model.model
    gen = torch.Generator().manual_seed(seed + 3)
    calib = [[bos] + torch.randint(FIRST_ID, cfg.vocab_size, (CALIB_LEN - 1,), generator=gen).tolist() for _ in range(CALIB_SEQS)]

    # Pairs (and the SAEs calibrated on them) are drawn again until every variant keeps its
    # non-zero |u - v| and its argmax gaps at least KINK_MARGIN away from a tie: another float32
    # implementation (the tolerance of ours against HF is 1e-4) then takes the same branches.
    for attempt in range(20):
        pairs = make_pairs(cfg.vocab_size, bos, seed + 1 + 7919 * attempt)
        sae_notes, saes32, saes64 = calibrate(base, folder, plain, model, pairs, calib, seed)
        with torch.no_grad():
            kinks = {v["name"]: near_kinks(model, saes32, pairs, v, evaluate(model, saes32, pairs, v)) for v in VARIANTS}
        worst = min(min(k["min_nonzero_abs_u_minus_v"], k.get("min_argmax_gap", float("inf"))) for k in kinks.values())
        log(f"  pairs attempt {attempt}: smallest |u - v| or argmax gap {worst:.3g}")
        if worst >= KINK_MARGIN:
            break
    else:
        raise AssertionError("no pair draw keeps clear of the loss's kinks")
    for L in layers:
        log(f"  SAE layer {L}: {sae_notes[L]}")

    phrases = [s for pair in pairs for s in pair]
    moved = {}
    with torch.no_grad():
        for ids in phrases:
            with model.disable_adapter():
                off = resid_posts(hf, ids, layers)
            for L, x in resid_posts(plain, ids, layers).items():
                assert torch.equal(off[L], x), "adapter disabled != plain base model"
        for L in layers:
            on = torch.cat([resid_posts(hf, ids, [L])[L][1:] for ids in phrases])
            off = torch.cat([resid_posts(plain, ids, [L])[L][1:] for ids in phrases])
            moved[L] = float((on - off).norm() / off.norm())
    log(f"  adapter moves resid_post (relative norm, counted tokens): {moved}")
    assert all(0.03 < m < 0.5 for m in moved.values()), moved

    model64 = load_adapted(base, folder / "adapter", torch.float64)
    hf_last = cfg.num_hidden_layers - 1

    tensors: dict[str, torch.Tensor] = {}
    for tag, idx in (("en", 0), ("tgt", 1)):
        seqs = [pair[idx] for pair in pairs]
        t_max = max(len(s) for s in seqs)
        ids = torch.zeros((len(seqs), t_max), dtype=torch.int64)
        for p, s in enumerate(seqs):
            ids[p, : len(s)] = torch.tensor(s)
        tensors[f"pairs.{tag}_ids"] = ids
        tensors[f"pairs.{tag}_len"] = torch.tensor([len(s) for s in seqs], dtype=torch.int64)

    findings: dict[str, dict] = {}
    worst_rel = 0.0
    for k, var in enumerate(VARIANTS):
        name = var["name"]
        r32 = evaluate(model, saes32, pairs, var)
        g32 = grads(model, r32["loss"])
        r64 = evaluate(model64, saes64, pairs, var)
        g64 = grads(model64, r64["loss"])
        assert same_signature(r32["sig"], r64["sig"]), f"{name}: float32 and float64 take different branches"
        g_max = max(float(g.abs().max()) for g in g64.values())
        rel = max(float((g32[key].double() - g64[key]).abs().max()) for key in g64) / g_max
        loss_rel = abs(float(r32["loss"].detach()) - float(r64["loss"].detach())) / abs(float(r64["loss"].detach()))
        assert rel < 1e-3 and loss_rel < 1e-5, (name, rel, loss_rel)
        worst_rel = max(worst_rel, rel)
        dirs, fd, ad, used, rejected = finite_differences(model64, saes64, pairs, var, g64, seed + 100 * (k + 1))
        fd_rel = max(abs(a - b) / abs(b) for a, b in zip(fd, ad))
        kinks = near_kinks(model, saes32, pairs, var, r32)

        # Readings that must NOT match (so the fixture tells them apart), kept as figures.
        alt = {}
        with torch.no_grad():
            alt["loss_if_bos_counted"] = float(evaluate(model, saes32, pairs, var, count_bos=True)["loss"])
            other = "sum" if var["normalisation"] == "mean" else "mean"
            alt[f"loss_if_normalisation_{other}"] = float(evaluate(model, saes32, pairs, var, normalisation=other)["loss"])
            hs = evaluate(model, saes32, pairs, var, hidden_states=True)
            alt["loss_if_hf_hidden_states"] = float(hs["loss"])
        loss32 = float(r32["loss"].detach())
        for key, value in alt.items():
            assert abs(value - loss32) > 1e-4 * abs(loss32) or (
                key == "loss_if_hf_hidden_states" and hf_last not in layers
            ), (name, key, value)
        if hf_last not in layers:
            assert torch.equal(hs["loss"], r32["loss"].detach()), "hidden_states[L+1] should equal the hook below the last layer"
        if var["direction"] == "target-only":
            both = grads(model, evaluate(model, saes32, pairs, dict(var, direction="both"))["loss"])
            diff = max(float((both[key] - g32[key]).abs().max()) for key in g32) / max(float(g.abs().max()) for g in g32.values())
            assert diff > 1e-2, diff
            alt["grad_rel_diff_if_direction_both"] = diff

        tensors[f"{name}.loss"] = r32["loss"].detach().reshape(1)
        tensors[f"{name}.term1"] = r32["term1"].detach().reshape(1)
        tensors[f"{name}.term2"] = r32["term2"].detach().reshape(1)
        for L in layers:
            tensors[f"{name}.uorig.{L}"] = r32["uorig"][L].contiguous()
            tensors[f"{name}.mask.{L}"] = r32["w"][L].contiguous()
        for key, g in g32.items():
            tensors[f"{name}.grad.{key}"] = g.contiguous()
        for j, d in enumerate(dirs):
            for key, t in d.items():
                tensors[f"{name}.fd.dir{j}.{key}"] = t.contiguous()
        tensors[f"{name}.fd.value"] = torch.tensor(fd, dtype=torch.float64)
        tensors[f"{name}.fd.autograd64"] = torch.tensor(ad, dtype=torch.float64)
        mask_frac = {L: float(r32["w"][L].mean()) for L in layers}
        if var["features"] == "english-active":
            assert all(0 < f < 1 for f in mask_frac.values()), mask_frac
        findings[name] = {
            "loss": loss32, "loss64": float(r64["loss"].detach()), "term1": float(r32["term1"].detach()), "term2": float(r32["term2"].detach()),
            "max_rel_f32_vs_f64_grad": rel, "rel_f32_vs_f64_loss": loss_rel,
            "fd_max_rel_vs_autograd64": fd_rel, "fd_direction_seeds": used, "fd_directions_rejected": rejected,
            "mask_fraction": mask_frac, **kinks, **alt,
        }
        log(f"  {name}: " + json.dumps(findings[name]))

    meta = {
        "generator": GENERATOR,
        **vers,
        "base": str(BASES / base),
        "adapter": "adapter/ (r 4, lora_alpha 8, scaling 2)",
        "variants": json.dumps(VARIANTS),
        "loss_layers": json.dumps(layers),
        "bos": str(bos),
        "pairs": str(len(pairs)),
        "hook": "blocks.L.hook_resid_post = output of decoder layer L (forward hook), not HF hidden_states",
        "counted_tokens": "every position but 0 (the BOS)",
        "fd_h": str(FD_H),
        "fd_of_target_only": "S(theta) = term1(u fixed at theta0, v(theta)) + alpha term2(theta)",
        "max_rel_f32_vs_f64": f"{worst_rel:.3e}",
        "max_rel_f32_vs_f64_definition": "per variant max |g32 - g64| / max |g64| over all LoRA entries; the max over variants",
        "adapter_moves_resid_post": json.dumps({str(L): round(m, 4) for L, m in moved.items()}),
        "saes": json.dumps({str(L): n for L, n in sae_notes.items()}),
        "findings": json.dumps(findings),
        "seed": str(seed),
        "pairs_attempt": str(attempt),
    }
    path = folder / "reference.safetensors"
    save_file(tensors, str(path), metadata=meta)
    sort_metadata_keys(path)
    os.chmod(path, 0o644)
    with safe_open(str(path), "pt") as f:
        assert f.metadata() == meta
        assert set(f.keys()) == set(tensors)
        for key, t in tensors.items():
            assert torch.equal(f.get_tensor(key), t), key
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    log(f"  {base}: {len(tensors)} tensors, {size} bytes in {folder}")
    return {"max_rel_f32_vs_f64": worst_rel, "bytes": size, **{n: {k: f[k] for k in ("fd_max_rel_vs_autograd64", "max_rel_f32_vs_f64_grad")} for n, f in findings.items()}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (its base subfolders are rewritten)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    vers = {**versions(), "peft": peft.__version__, "sae_lens": sae_lens.__version__}
    log("versions:", json.dumps(vers))
    out_root = Path(args.out)
    summary = {base: build_base(i, base, out_root, vers) for i, base in enumerate(SPECS)}
    log("summary:", json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
