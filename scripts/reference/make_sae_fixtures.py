#!/usr/bin/env python3
"""SAE fixtures from the reference implementation (SAELens, PyTorch) and a Gemma Scope params.npz.

Input activations come from the model fixtures: `blocks.L.hook_resid_post` of
`test/fixtures/models/gemma2/reference.safetensors` (float32 [3, 10, 64]) at the real tokens only
(`attention_mask == 1`, taken row-major over (phrase, position)): x is float32 [21, 64].

Writes into `test/fixtures/saes/`:

    saelens/<variant>/cfg.json                 what SAELens's `SAE.save_model` writes
    saelens/<variant>/sae_weights.safetensors  what SAELens's `SAE.save_model` writes
    saelens/<variant>/reference.safetensors
        x               float32 [N, d_in]   the input (resid_post of the hook layer, real tokens)
        hidden_pre      float32 [N, d_sae]  what SAELens's `hook_sae_acts_pre` sees
                                            (= process_sae_in(x) @ W_enc + b_enc; for TopK before
                                            the decoder-norm rescale)
        feature_acts    float32 [N, d_sae]  sae.encode(x)
        reconstruction  float32 [N, d_in]   sae(x) (asserted bit-identical to sae.decode(sae.encode(x)),
                                            so it includes run_time_activation_norm_fn_out)
    gemmascope/layer_1/width_128/average_l0_<L0>/params.npz             np.savez (stored zip)
    gemmascope/layer_1/width_128/average_l0_<L0>/reference.safetensors  x, hidden_pre, feature_acts,
                                                                        reconstruction
    gemmascope/layer_1/width_128/average_l0_<L0>-compressed/params.npz  np.savez_compressed (deflate)
    gemmascope/layer_1/width_128/average_l0_<L0>-compressed/reference.safetensors  (same tensors;
                                                                        metadata names the writer)

Variants (d_in 64, d_sae 128, float32): jumprelu (apply_b_dec_to_input False, as Gemma Scope),
jumprelu-bdec (True), standard (ReLU, True), standard-norm-constant (normalize_activations
"constant_norm_rescale"), standard-norm-layer ("layer_norm", layer 3), topk (k 8), topk-rescale
(k 8, rescale_acts_by_decoder_norm True). The Gemma Scope params.npz holds exactly the weights of
saelens/jumprelu (the same SAE in the other file format).

Weights are drawn by the script (torch.Generator, float64, cast to float32), then b_enc / the
JumpReLU thresholds are calibrated on x so that a realistic number of features fire (L0 about
10-30 of 128); thresholds sit half-way between two neighbouring pre-activation values so that no
pre-activation is near a threshold (and TopK's k-th and (k+1)-th values are far apart), which keeps
the masks robust to float32 summation order in other implementations.

Checks (the script fails loudly otherwise): an independent float64 re-implementation of every
variant (the semantics documented in README.md) matches SAELens; alternative readings of the
semantics (no ReLU in JumpReLU, biased std in layer_norm, no b_dec subtraction, no decoder-norm
rescale, ...) do NOT match, so the fixtures tell them apart; every folder loads back with
`SAE.load_from_disk`; the params.npz loads through SAELens's own Gemma Scope converter
(`gemma_2_sae_huggingface_loader`, with `hf_hub_download` redirected to the local file) and
`SAE.from_pretrained_with_cfg_and_sparsity`, and encodes like the Gemma Scope formula.

Byte-reproducible: safetensors writes `__metadata__` keys in a random order per process, so the
reference headers are rewritten with the keys sorted; the npz zip entries carry ZipInfo's default
timestamp (1980-01-01 00:00:00), so np.savez is deterministic as is.

Usage (from the repository root; needs sae-lens, torch, safetensors, numpy):
    ~/.venvs/ref/bin/python scripts/reference/make_sae_fixtures.py [--out test/fixtures/saes]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import struct
import sys
import warnings
import zipfile
import zlib
from pathlib import Path
from unittest import mock

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np
import safetensors
import torch
from safetensors import safe_open

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deterministic_safetensors import sort_metadata_keys  # noqa: E402
from safetensors.torch import save_file

import sae_lens
import sae_lens.loading.pretrained_sae_loaders as sl_loaders
from sae_lens import SAE
from sae_lens.saes import (
    JumpReLUSAE,
    JumpReLUSAEConfig,
    StandardSAE,
    StandardSAEConfig,
    TopKSAE,
    TopKSAEConfig,
)
from sae_lens.saes.sae import SAEMetadata

GENERATOR = "scripts/reference/make_sae_fixtures.py"
DEFAULT_OUT = "test/fixtures/saes"
SOURCE = "test/fixtures/models/gemma2/reference.safetensors"
SEED = 20260526
D_IN = 64
D_SAE = 128
K = 8
MODEL_NAME = "gemma2-fixture"
GEMMASCOPE_LAYER = 1

# name, architecture, hook layer, apply_b_dec_to_input, normalize_activations, extra config
VARIANTS = [
    ("jumprelu", "jumprelu", 1, False, "none", {}),
    ("jumprelu-bdec", "jumprelu", 1, True, "none", {}),
    ("standard", "standard", 1, True, "none", {}),
    ("standard-norm-constant", "standard", 1, True, "constant_norm_rescale", {}),
    ("standard-norm-layer", "standard", 3, True, "layer_norm", {}),
    ("topk", "topk", 1, True, "none", {"k": K}),
    ("topk-rescale", "topk", 1, True, "none", {"k": K, "rescale_acts_by_decoder_norm": True}),
]
CLASSES = {
    "jumprelu": (JumpReLUSAE, JumpReLUSAEConfig),
    "standard": (StandardSAE, StandardSAEConfig),
    "topk": (TopKSAE, TopKSAEConfig),
}

STANDARD_TARGET_L0 = 20.0  # mean number of features with pre > 0 (standard)
TOPK_TARGET_POSITIVE = 12.0  # mean number of positive pre-activations per token (topk): some tokens < k
JUMPRELU_LEVELS = (0.70, 0.95)  # per-feature quantile level of its threshold
JUMPRELU_NEGATIVE = 6  # features whose threshold is set at quantile 0.3 (negative: ReLU matters)
MARGIN = 1e-3  # minimum distance (relative to the pre-activation std) between a pre-activation and a
               # threshold / between TopK's k-th and (k+1)-th value


def log(*args) -> None:
    print(*args, flush=True)


def versions() -> dict[str, str]:
    return {
        "python": sys.version.split()[0],
        "sae_lens": sae_lens.__version__,
        "torch": torch.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
    }


# ---------------------------------------------------------------------------------------------
# Input
# ---------------------------------------------------------------------------------------------


def load_inputs() -> tuple[dict[int, torch.Tensor], list[list[int]], str]:
    raw = Path(SOURCE).read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    with safe_open(SOURCE, "pt") as f:
        mask = f.get_tensor("attention_mask").bool()
        xs = {}
        for L in (1, 3):
            resid = f.get_tensor(f"blocks.{L}.hook_resid_post")
            assert resid.dtype == torch.float32 and resid.shape == (3, 10, D_IN), resid.shape
            xs[L] = resid[mask].contiguous()
    positions = [[int(b), int(t)] for b, t in mask.nonzero().tolist()]
    assert all(v.shape == (21, D_IN) for v in xs.values())
    return xs, positions, sha


# ---------------------------------------------------------------------------------------------
# SAE construction with SAELens
# ---------------------------------------------------------------------------------------------


def make_sae(arch: str, layer: int, apply_b_dec: bool, norm: str, extra: dict):
    sae_cls, cfg_cls = CLASSES[arch]
    metadata = SAEMetadata(
        model_name=MODEL_NAME,
        hook_name=f"blocks.{layer}.hook_resid_post",
        hook_head_index=None,
        prepend_bos=True,
        context_size=10,
    )
    cfg = cfg_cls(
        d_in=D_IN,
        d_sae=D_SAE,
        dtype="float32",
        device="cpu",
        apply_b_dec_to_input=apply_b_dec,
        normalize_activations=norm,
        metadata=metadata,
        **extra,
    )
    sae = sae_cls(cfg)
    sae.eval()
    return sae


def run_sae(sae, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """encode / decode / forward, capturing hook_sae_acts_pre."""
    seen: list[torch.Tensor] = []
    handle = sae.hook_sae_acts_pre.register_forward_hook(lambda m, a, out: seen.append(out.detach().clone()))
    try:
        with torch.no_grad():
            acts = sae.encode(x)
            recon = sae.decode(acts)
            fwd = sae(x)
    finally:
        handle.remove()
    assert len(seen) == 2 and torch.equal(seen[0], seen[1])
    # forward is decode(encode(x)) (no error term): bit-identical.
    assert torch.equal(fwd, recon), float((fwd - recon).abs().max())
    return {"hidden_pre": seen[0], "feature_acts": acts.detach().clone(), "reconstruction": fwd.detach().clone()}


def set_param(sae, name: str, value: torch.Tensor) -> None:
    with torch.no_grad():
        getattr(sae, name).copy_(value.to(torch.float32))


def randomise(sae, arch: str, x: torch.Tensor, seed: int) -> dict[str, str]:
    """Draw W_enc, W_dec, b_dec, b_enc; calibrate b_enc (standard, topk) or threshold (jumprelu) on x."""
    gen = torch.Generator().manual_seed(seed)
    notes: dict[str, str] = {}
    # Decoder rows: random directions with norms in [0.5, 2] (so TopK's decoder-norm rescale matters).
    direction = torch.randn(D_SAE, D_IN, generator=gen, dtype=torch.float64)
    direction = direction / direction.norm(dim=-1, keepdim=True)
    norms = 0.5 + 1.5 * torch.rand(D_SAE, generator=gen, dtype=torch.float64)
    set_param(sae, "W_dec", direction * norms[:, None])
    set_param(sae, "W_enc", torch.randn(D_IN, D_SAE, generator=gen, dtype=torch.float64) / D_IN**0.5)
    # b_dec on the scale of what the encoder sees (after any run-time normalisation).
    with torch.no_grad():
        normed = sae.run_time_activation_norm_fn_in(x.clone())
        sae.run_time_activation_norm_fn_out(torch.zeros_like(x))  # clears the stored coefficients
    in_std = float(normed.double().std())
    set_param(sae, "b_dec", 0.3 * in_std * torch.randn(D_IN, generator=gen, dtype=torch.float64))
    b_enc_noise = torch.randn(D_SAE, generator=gen, dtype=torch.float64)
    set_param(sae, "b_enc", torch.zeros(D_SAE, dtype=torch.float64))
    pre0 = run_sae(sae, x)["hidden_pre"].double()
    pre_std = float(pre0.std())
    if arch == "topk" and sae.cfg.rescale_acts_by_decoder_norm:
        pre0 = pre0 * sae.W_dec.detach().double().norm(dim=-1)
    b_enc = 0.2 * pre_std * b_enc_noise
    if arch in ("standard", "topk"):
        target = STANDARD_TARGET_L0 if arch == "standard" else TOPK_TARGET_POSITIVE
        shifted = pre0 + (b_enc if arch == "standard" or not sae.cfg.rescale_acts_by_decoder_norm
                          else b_enc * sae.W_dec.detach().double().norm(dim=-1))
        offset = float(torch.quantile(shifted.flatten(), 1.0 - target / D_SAE))
        if arch == "topk" and sae.cfg.rescale_acts_by_decoder_norm:
            b_enc = b_enc - offset / sae.W_dec.detach().double().norm(dim=-1)
        else:
            b_enc = b_enc - offset
    set_param(sae, "b_enc", b_enc)
    if arch == "jumprelu":
        set_param(sae, "threshold", torch.zeros(D_SAE, dtype=torch.float64))
        pre = run_sae(sae, x)["hidden_pre"].double()
        n = pre.shape[0]
        levels = JUMPRELU_LEVELS[0] + (JUMPRELU_LEVELS[1] - JUMPRELU_LEVELS[0]) * torch.rand(
            D_SAE, generator=gen, dtype=torch.float64
        )
        negative = torch.randperm(D_SAE, generator=gen)[:JUMPRELU_NEGATIVE].sort().values
        levels[negative] = 0.3
        threshold = torch.empty(D_SAE, dtype=torch.float64)
        for i in range(D_SAE):
            s = pre[:, i].sort().values
            j0 = int(round(float(levels[i]) * (n - 1)))
            j0 = min(max(j0, 0), n - 2)
            # nearest gap (s[j], s[j+1]) wide enough, searching outward from j0
            for step in range(n):
                cands = [j for j in (j0 - step, j0 + step) if 0 <= j <= n - 2]
                ok = [j for j in cands if float(s[j + 1] - s[j]) > 2 * MARGIN * pre_std]
                if ok:
                    j = ok[0]
                    break
            else:
                raise AssertionError(f"feature {i}: no usable gap")
            threshold[i] = (s[j] + s[j + 1]) / 2
        set_param(sae, "threshold", threshold)
        neg_thr = [int(i) for i in negative if float(sae.threshold.detach()[i]) < 0]
        assert len(neg_thr) >= 3, neg_thr
        notes["negative_threshold_features"] = json.dumps(neg_thr)
    return notes


# ---------------------------------------------------------------------------------------------
# Independent float64 re-implementation (the semantics the TypeScript loader implements)
# ---------------------------------------------------------------------------------------------


def manual(params: dict[str, torch.Tensor], cfg: dict, x: torch.Tensor, **alt) -> dict[str, torch.Tensor]:
    """float64 encode/decode from the raw weights and cfg.json. `alt` switches to wrong readings."""
    p = {k: v.double() for k, v in params.items()}
    x = x.double()
    norm = cfg["normalize_activations"]
    d_in = cfg["d_in"]
    if norm == "constant_norm_rescale":
        coeff = d_in**0.5 / x.norm(dim=-1, keepdim=True)
        sae_in = x * coeff
    elif norm == "layer_norm":
        mu = x.mean(dim=-1, keepdim=True)
        xc = x - mu
        std = xc.std(dim=-1, keepdim=True, correction=0 if alt.get("biased_std") else 1)
        sae_in = xc / (std + 1e-5)
    else:
        assert norm == "none"
        sae_in = x
    apply_b_dec = cfg["apply_b_dec_to_input"] if not alt.get("flip_b_dec") else not cfg["apply_b_dec_to_input"]
    if apply_b_dec:
        sae_in = sae_in - p["b_dec"]
    pre = sae_in @ p["W_enc"] + p["b_enc"]
    arch = cfg["architecture"]
    dec_norm = p["W_dec"].norm(dim=-1)
    rescale = arch == "topk" and cfg.get("rescale_acts_by_decoder_norm", False) and not alt.get("no_rescale")
    if arch == "standard":
        acts = pre.clamp(min=0)
    elif arch == "jumprelu":
        mask = (pre > p["threshold"]).double()
        acts = pre * mask if alt.get("no_relu") else pre.clamp(min=0) * mask
    elif arch == "topk":
        sel = pre * dec_norm if rescale else pre
        values, idx = sel.topk(cfg["k"], dim=-1)
        acts = torch.zeros_like(sel).scatter(-1, idx, values if alt.get("no_relu") else values.clamp(min=0))
    else:
        raise AssertionError(arch)
    out = (acts / dec_norm if rescale else acts) @ p["W_dec"] + p["b_dec"]
    if norm == "constant_norm_rescale" and not alt.get("no_denorm"):
        out = out / coeff
    elif norm == "layer_norm" and not alt.get("no_denorm"):
        out = out * std + mu
    return {"hidden_pre": pre, "feature_acts": acts, "reconstruction": out}


def max_abs(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max())


def check_against_manual(name: str, params, cfg, x, ref) -> dict[str, str]:
    findings = {}
    mine = manual(params, cfg, x)
    scale = max(1.0, float(ref["reconstruction"].abs().max()))
    worst = 0.0
    for k in ("hidden_pre", "feature_acts", "reconstruction"):
        d = max_abs(mine[k], ref[k])
        worst = max(worst, d)
        assert d < 1e-4 * scale, (name, k, d)
    # identical sparsity pattern
    assert torch.equal(mine["feature_acts"] != 0, ref["feature_acts"] != 0), name
    findings["independent_f64_reimplementation_max_abs"] = f"{worst:.3e}"
    log(f"  float64 re-implementation vs SAELens: max abs {worst:.3e}")

    # Wrong readings must be distinguishable.
    alts = {"flip_b_dec": "apply_b_dec_to_input flipped"}
    if cfg["architecture"] == "jumprelu":
        alts["no_relu"] = "JumpReLU without the ReLU (pre * (pre > threshold))"
    if cfg["architecture"] == "topk":
        alts["no_relu"] = "TopK without the ReLU after top-k"
        if cfg.get("rescale_acts_by_decoder_norm"):
            alts["no_rescale"] = "TopK ignoring rescale_acts_by_decoder_norm"
    if cfg["normalize_activations"] != "none":
        alts["no_denorm"] = "decode without run_time_activation_norm_fn_out"
    if cfg["normalize_activations"] == "layer_norm":
        alts["biased_std"] = "layer_norm with the biased (population) std"
    for flag, what in alts.items():
        other = manual(params, cfg, x, **{flag: True})
        d = max(max_abs(other[k], ref[k]) for k in ("feature_acts", "reconstruction"))
        assert d > 1e-2, (name, flag, d)
        findings[f"alt_{flag}_differs_max_abs"] = f"{d:.4f}"
        log(f"  {what}: would differ by {d:.4f}")
    return findings


def robustness(name: str, sae, cfg: dict, ref) -> dict[str, str]:
    """Distances that keep masks stable under float32 re-computation in other implementations."""
    pre = ref["hidden_pre"].double()
    std = float(pre.std())
    out = {}
    if cfg["architecture"] == "jumprelu":
        gap = float((pre - sae.threshold.detach().double()).abs().min())
        assert gap > MARGIN * std * 0.99, (name, gap)
        out["min_abs_pre_minus_threshold"] = f"{gap:.4e}"
        log(f"  min |pre - threshold| {gap:.3e} (pre std {std:.3f})")
    if cfg["architecture"] == "topk":
        sel = pre * sae.W_dec.detach().double().norm(dim=-1) if cfg.get("rescale_acts_by_decoder_norm") else pre
        s = sel.sort(dim=-1, descending=True).values
        kth, next_ = s[:, K - 1], s[:, K]
        relevant = kth > 0  # if the k-th value is <= 0 the choice among non-positive values is irrelevant
        gap = float((kth - next_)[relevant].min())
        assert gap > MARGIN * std, (name, gap)
        out["min_gap_kth_vs_k_plus_1th"] = f"{gap:.4e}"
        positive = (sel > 0).sum(dim=-1)
        fewer = int((positive < K).sum())
        more = int((positive > K).sum())
        assert fewer >= 1 and more >= 1, (name, fewer, more)
        out["tokens_with_fewer_than_k_positive"] = str(fewer)
        out["tokens_with_more_than_k_positive"] = str(more)
        log(f"  tokens with < k positive pre-activations: {fewer}, > k: {more}; min top-k gap {gap:.3e}")
        if cfg.get("rescale_acts_by_decoder_norm"):
            plain = pre.topk(K, dim=-1).indices.sort(dim=-1).values
            resc = sel.topk(K, dim=-1).indices.sort(dim=-1).values
            changed = int((plain != resc).any(dim=-1).sum())
            assert changed >= 1
            out["tokens_whose_topk_set_changes_with_rescale"] = str(changed)
            log(f"  tokens whose top-k set the decoder-norm rescale changes: {changed}")
    nz = float(pre.abs().min())
    out["min_abs_hidden_pre"] = f"{nz:.4e}"
    log(f"  min |hidden_pre| {nz:.3e}")
    return out


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def write_reference(folder: Path, x, ref, meta: dict[str, str]) -> None:
    tensors = {"x": x.contiguous()}
    for k in ("hidden_pre", "feature_acts", "reconstruction"):
        assert ref[k].dtype == torch.float32
        tensors[k] = ref[k].contiguous()
    path = folder / "reference.safetensors"
    save_file(tensors, str(path), metadata=meta)
    sort_metadata_keys(path)
    os.chmod(path, 0o644)
    with safe_open(str(path), "pt") as f:
        assert f.metadata() == meta
        for k, v in tensors.items():
            assert torch.equal(f.get_tensor(k), v), k


def weights_layout(path: Path) -> tuple[dict, list[str]]:
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length])
    order = [k for k in header if k != "__metadata__"]
    return header, order


def l0_stats(acts: torch.Tensor) -> dict[str, str]:
    l0 = (acts != 0).sum(dim=-1)
    return {
        "l0_min": str(int(l0.min())),
        "l0_mean": f"{float(l0.double().mean()):.4f}",
        "l0_max": str(int(l0.max())),
        "l0_per_token": json.dumps(l0.tolist()),
    }


SEMANTICS = {
    "standard": "acts = relu(pre), pre = sae_in @ W_enc + b_enc",
    "jumprelu": "acts = relu(pre) * (pre > threshold) (strict >), pre = sae_in @ W_enc + b_enc",
    "topk": "pre = sae_in @ W_enc + b_enc; [if rescale_acts_by_decoder_norm: pre *= ||W_dec[i]||]; "
            "acts = zeros except the k largest entries of pre (torch.topk), which get relu(value)",
}


def describe(cfg: dict) -> str:
    parts = []
    norm = cfg["normalize_activations"]
    if norm == "constant_norm_rescale":
        parts.append("c = sqrt(d_in) / ||x||_2; x' = x * c")
    elif norm == "layer_norm":
        parts.append("mu = mean(x); std = unbiased std(x - mu) (divide by d_in - 1); x' = (x - mu) / (std + 1e-5)")
    else:
        parts.append("x' = x")
    parts.append("sae_in = x' - b_dec" if cfg["apply_b_dec_to_input"] else "sae_in = x' (no b_dec subtraction)")
    parts.append(SEMANTICS[cfg["architecture"]])
    if cfg.get("rescale_acts_by_decoder_norm"):
        parts.append("out = (acts / ||W_dec[i]||) @ W_dec + b_dec")
    else:
        parts.append("out = acts @ W_dec + b_dec")
    if norm == "constant_norm_rescale":
        parts.append("reconstruction = out / c")
    elif norm == "layer_norm":
        parts.append("reconstruction = out * std + mu (no eps)")
    else:
        parts.append("reconstruction = out")
    return "; ".join(parts)


def build_variant(index: int, spec, xs, positions, src_sha, vers, out_root: Path) -> tuple[dict, object]:
    name, arch, layer, apply_b_dec, norm, extra = spec
    log(f"== saelens/{name}")
    seed = SEED + 100 * (index + 1)
    x = xs[layer]
    torch.manual_seed(seed)  # SAELens's own kaiming init; every value is overwritten below
    sae = make_sae(arch, layer, apply_b_dec, norm, extra)
    notes = randomise(sae, arch, x, seed)
    ref = run_sae(sae, x)

    folder = out_root / "saelens" / name
    if folder.exists():
        shutil.rmtree(folder)
    weights_path, cfg_path = sae.save_model(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["cfg.json", "sae_weights.safetensors"]
    os.chmod(weights_path, 0o644)
    os.chmod(cfg_path, 0o644)
    cfg_text = cfg_path.read_text()
    cfg = json.loads(cfg_text)
    header, order = weights_layout(weights_path)
    assert "__metadata__" not in header
    with safe_open(str(weights_path), "pt") as f:
        params = {k: f.get_tensor(k) for k in f.keys()}
    for k, v in params.items():
        assert v.dtype == torch.float32 and torch.equal(v, getattr(sae, k).detach()), k

    # Round trip through SAELens's loader.
    loaded = SAE.load_from_disk(str(folder))
    assert type(loaded) is type(sae), type(loaded)
    again = run_sae(loaded, x)
    for k in ref:
        assert torch.equal(again[k], ref[k]), (name, k)

    findings = dict(notes)
    findings.update(check_against_manual(name, params, cfg, x, ref))
    findings.update(robustness(name, sae, cfg, ref))
    stats = l0_stats(ref["feature_acts"])
    log(f"  L0 min/mean/max {stats['l0_min']}/{stats['l0_mean']}/{stats['l0_max']}")
    meta = {
        "generator": GENERATOR,
        "description": (
            f"SAELens {type(sae).__name__} ({name}), random weights; x = {cfg['metadata']['hook_name']} of "
            f"{SOURCE} at attention_mask == 1 (row-major over phrase, position); hidden_pre = SAELens "
            "hook_sae_acts_pre; feature_acts = sae.encode(x); reconstruction = sae(x) == sae.decode(sae.encode(x))"
        ),
        **vers,
        "seed": str(seed),
        "variant": name,
        "architecture": cfg["architecture"],
        "hook_name": cfg["metadata"]["hook_name"],
        "source": SOURCE,
        "source_sha256": src_sha,
        "token_positions": json.dumps(positions),
        "semantics": describe(cfg),
        "cfg_json_keys": json.dumps(list(cfg)),
        "cfg_json_metadata_keys": json.dumps(list(cfg["metadata"])),
        "weights_tensors": json.dumps({k: header[k]["shape"] for k in order}),
        "forward_equals_decode_encode": "bit-identical",
        **stats,
        **findings,
    }
    write_reference(folder, x, ref, meta)
    summary = {
        "cfg_keys": list(cfg),
        "metadata_keys": list(cfg["metadata"]),
        "weights": {k: header[k]["shape"] for k in order},
        "semantics": meta["semantics"],
        **stats,
        **findings,
    }
    summary.pop("l0_per_token")
    return summary, (sae, ref, params, cfg)


# ---------------------------------------------------------------------------------------------
# Gemma Scope params.npz
# ---------------------------------------------------------------------------------------------

NPZ_KEYS = ("W_dec", "W_enc", "b_dec", "b_enc", "threshold")  # the order in Google's files (alphabetical)


def gemmascope_reference(p: dict[str, np.ndarray], x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The Gemma Scope tutorial's JumpReLUSAE, float32 torch."""
    t = {k: torch.from_numpy(v) for k, v in p.items()}
    pre = x @ t["W_enc"] + t["b_enc"]
    mask = pre > t["threshold"]
    acts = mask * torch.nn.functional.relu(pre)
    recon = acts @ t["W_dec"] + t["b_dec"]
    return {"hidden_pre": pre, "feature_acts": acts, "reconstruction": recon}


def zip_layout(path: Path) -> list[dict]:
    with zipfile.ZipFile(path) as z:
        return [
            {
                "name": i.filename,
                "compress_type": i.compress_type,
                "file_size": i.file_size,
                "compress_size": i.compress_size,
                "date_time": list(i.date_time),
                "flag_bits": i.flag_bits,
            }
            for i in z.infolist()
        ]


def saelens_gemma_scope_load(npz_path: Path, folder_name: str):
    """Load the npz through SAELens's own Gemma Scope path: SAE.from_pretrained_with_cfg_and_sparsity
    with the `gemma_2` converter (gemma_2_sae_huggingface_loader), hf_hub_download redirected to the
    local file. Repo id and folder name are Gemma Scope's; d_in/d_sae are overridden (the converter
    derives them from the repo name and a width_4k..width_1m folder name)."""
    calls = []

    def fake_download(repo_id, filename, subfolder=None, force_download=False, **kw):
        calls.append((repo_id, subfolder, filename))
        assert filename == "params.npz" and subfolder == folder_name, (filename, subfolder)
        return str(npz_path)

    def converter(repo_id, folder_name, device="cpu", force_download=False, cfg_overrides=None):
        overrides = dict(cfg_overrides or {})
        overrides.update(d_in=D_IN, d_sae=D_SAE, model_name=MODEL_NAME)
        return sl_loaders.gemma_2_sae_huggingface_loader(
            repo_id, folder_name, device=device, force_download=force_download, cfg_overrides=overrides
        )

    with mock.patch.object(sl_loaders, "hf_hub_download", fake_download), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sae, cfg_dict, _ = SAE.from_pretrained_with_cfg_and_sparsity(
            "google/gemma-scope-2b-pt-res", folder_name, device="cpu", dtype="float32", converter=converter
        )
    assert len(calls) == 1, calls
    return sae, cfg_dict


def build_gemmascope(jr, x, positions, src_sha, vers, out_root: Path) -> dict:
    sae, sl_ref, params, cfg = jr
    assert cfg["architecture"] == "jumprelu" and cfg["apply_b_dec_to_input"] is False
    assert cfg["metadata"]["hook_name"] == f"blocks.{GEMMASCOPE_LAYER}.hook_resid_post"
    p = {k: params[k].numpy().astype(np.float32) for k in NPZ_KEYS}
    assert p["W_enc"].shape == (D_IN, D_SAE) and p["W_dec"].shape == (D_SAE, D_IN)
    ref = gemmascope_reference(p, x)
    # The Gemma Scope formula and SAELens's JumpReLUSAE (apply_b_dec_to_input False) agree bit for bit.
    for k in ref:
        assert torch.equal(ref[k], sl_ref[k]), k
    l0 = (ref["feature_acts"] != 0).sum(dim=-1).double().mean()
    avg = int(round(float(l0)))
    log(f"== gemmascope: average L0 {float(l0):.4f} -> average_l0_{avg}")
    base = out_root / "gemmascope" / f"layer_{GEMMASCOPE_LAYER}" / f"width_{D_SAE}"
    if base.exists():
        shutil.rmtree(base)
    summary = {}
    for suffix, writer in (("", np.savez), ("-compressed", np.savez_compressed)):
        folder_name = f"layer_{GEMMASCOPE_LAYER}/width_{D_SAE}/average_l0_{avg}{suffix}"
        folder = out_root / "gemmascope" / folder_name
        folder.mkdir(parents=True)
        path = folder / "params.npz"
        writer(path, **p)
        os.chmod(path, 0o644)
        layout = zip_layout(path)
        expected_type = zipfile.ZIP_STORED if suffix == "" else zipfile.ZIP_DEFLATED
        assert [e["name"] for e in layout] == [k + ".npy" for k in NPZ_KEYS], layout
        assert all(e["compress_type"] == expected_type for e in layout), layout
        assert all(e["date_time"] == [1980, 1, 1, 0, 0, 0] for e in layout), layout
        with np.load(path) as data:
            assert sorted(data.files) == sorted(NPZ_KEYS)
            for k in NPZ_KEYS:
                assert data[k].dtype == np.float32 and np.array_equal(data[k], p[k]), k
        # SAELens's Gemma Scope loader on the local file.
        loaded, cfg_dict = saelens_gemma_scope_load(path, folder_name)
        assert type(loaded) is JumpReLUSAE, type(loaded)
        assert loaded.cfg.apply_b_dec_to_input is False and loaded.cfg.normalize_activations == "none"
        assert loaded.cfg.metadata.hook_name == f"blocks.{GEMMASCOPE_LAYER}.hook_resid_post"
        got = run_sae(loaded, x)
        for k in ref:
            assert torch.equal(got[k], ref[k]), k
        log(f"  {folder_name}/params.npz ({'np.savez_compressed' if suffix else 'np.savez'}): "
            "SAELens gemma_2 loader encodes bit-identically to the Gemma Scope formula")
        stats = l0_stats(ref["feature_acts"])
        meta = {
            "generator": GENERATOR,
            "description": (
                "Gemma Scope format (google/gemma-scope-2b-pt-res layout) params.npz holding the weights of "
                f"../../../../saelens/jumprelu; x = blocks.{GEMMASCOPE_LAYER}.hook_resid_post of {SOURCE} at "
                "attention_mask == 1; hidden_pre = x @ W_enc + b_enc; feature_acts = (hidden_pre > threshold) * "
                "relu(hidden_pre) (no b_dec subtraction); reconstruction = feature_acts @ W_dec + b_dec"
            ),
            **vers,
            "seed": str(SEED + 100),
            "architecture": "jumprelu",
            "hook_name": f"blocks.{GEMMASCOPE_LAYER}.hook_resid_post",
            "source": SOURCE,
            "source_sha256": src_sha,
            "token_positions": json.dumps(positions),
            "npz_writer": "numpy.savez_compressed" if suffix else "numpy.savez",
            "npz_entries": json.dumps(layout),
            "saelens_loader": (
                "sae_lens.loading.pretrained_sae_loaders.gemma_2_sae_huggingface_loader via "
                "SAE.from_pretrained_with_cfg_and_sparsity('google/gemma-scope-2b-pt-res', "
                f"'{folder_name}', converter=...) with hf_hub_download patched to the local file and "
                "cfg_overrides d_in=64, d_sae=128; encode bit-identical"
            ),
            "saelens_loader_cfg": json.dumps(cfg_dict, sort_keys=True, default=str),
            "same_weights_as": "saelens/jumprelu",
            **stats,
        }
        write_reference(folder, x, ref, meta)
        summary[folder_name] = {"npz_entries": layout, **{k: v for k, v in stats.items() if k != "l0_per_token"}}
    return summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output folder (saelens/ and gemmascope/ are rewritten)")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out_root = Path(args.out)
    out_root.mkdir(parents=True, exist_ok=True)
    vers = versions()
    log("versions:", json.dumps(vers))
    xs, positions, src_sha = load_inputs()
    log(f"x: {len(positions)} real tokens from {SOURCE} (sha256 {src_sha[:16]}...)")

    summary = {}
    built = {}
    if (out_root / "saelens").exists():
        shutil.rmtree(out_root / "saelens")
    for index, spec in enumerate(VARIANTS):
        s, b = build_variant(index, spec, xs, positions, src_sha, vers, out_root)
        summary[f"saelens/{spec[0]}"] = s
        built[spec[0]] = b
    summary["gemmascope"] = build_gemmascope(built["jumprelu"], xs[GEMMASCOPE_LAYER], positions, src_sha, vers, out_root)
    log("summary:", json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
