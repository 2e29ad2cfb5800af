#!/usr/bin/env python3
"""AdamW fixtures from the reference implementation, `torch.optim.AdamW` (PyTorch), on the CPU.

The training loss is L = sum_p sum(p * G_p) with a fixed gradient G_p per parameter and step, so
dL/dp = G_p exactly (the script asserts `p.grad` equals G_p bit for bit): the fixture tests the
optimiser alone, not autodiff. Per step t = 1..K:

    lr_t set in every param group (warmup then cosine, listed in `lr`)
    loss.backward()
    total_norm = torch.nn.utils.clip_grad_norm_(params, max_norm=1.0)   (pre-clip global L2 norm)
    opt.step()    AdamW(betas=(0.9, 0.95), eps=1e-8, foreach=False), two param groups:
                  {matrix, tensor3: weight_decay 0.1}, {vector: weight_decay 0}

Parameters (float32, N(0, 1) from a seeded torch.Generator in float64, then cast):
    matrix  [5, 3]     decay      (its element [0, 0] gets a zero gradient at every step:
                                   m = v = 0 there, so only the decay moves it)
    vector  [4]        no decay
    tensor3 [2, 3, 2]  decay
Gradients per step (N(0, 1) times a per-step scale): step 1 scale 1e-7 (|g| ~ 1e-7, so eps = 1e-8
changes the update by ~10 %), step 2 scale 2 (global norm ~11: clipping bites), steps 3-5 scale
0.1 (norm ~0.6, no clipping).

Writes test/fixtures/optim/adamw.safetensors with two runs of the same numbers: `f32.*` (torch in
float32) and `f64.*` (the same float32 initial values and gradients cast to float64, torch in
float64):

    <dt>.init.<param>                   initial value
    <dt>.grad.<t>.<param>               G_p at step t (1-based)
    <dt>.step.<t>.<param>               parameter after step t
    <dt>.step.<t>.<param>.exp_avg       AdamW's first moment after step t
    <dt>.step.<t>.<param>.exp_avg_sq    AdamW's second moment after step t
    <dt>.grad_norm                      [K] the pre-clip total norm clip_grad_norm_ returned
    <dt>.loss                           [K] L before step t (the summed sum(p * G_p))
    lr                                  F64 [K] the learning rate of each step
`__metadata__`: versions, seed, hyper-parameters, decay flags, shapes, clip counts (keys sorted so
the file is byte-reproducible; see deterministic_safetensors.py).

The script also checks that the fixture tests what it claims: clipping changed step 2 and no other
step, eps matters at step 1 (the update without eps differs), the decay group's decay matters, and
an independent float64 re-implementation of AdamW matches torch's float64 run.

Usage (from the repository root; torch, safetensors, numpy):
    ~/.venvs/ref/bin/python scripts/reference/make_adamw_fixtures.py [--out test/fixtures/optim]
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import sys
from pathlib import Path

import numpy as np
import safetensors
import torch
from safetensors.numpy import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deterministic_safetensors import sort_metadata_keys  # noqa: E402

SEED = 20260601
K = 5
BETAS = (0.9, 0.95)
EPS = 1e-8
WEIGHT_DECAY = 0.1
CLIP = 1.0
# name -> (shape, decay)
PARAMS = {"matrix": ((5, 3), True), "vector": ((4,), False), "tensor3": ((2, 3, 2), True)}
GRAD_SCALES = [1e-7, 2.0, 0.1, 0.1, 0.1]
PEAK_LR, WARMUP, MIN_LR_RATIO = 1e-2, 2, 0.1


def lr_schedule() -> list[float]:
    """Linear warmup over WARMUP steps, then cosine from PEAK_LR down to MIN_LR_RATIO * PEAK_LR."""
    out = []
    for t in range(1, K + 1):
        if t <= WARMUP:
            out.append(PEAK_LR * t / WARMUP)
        else:
            progress = (t - WARMUP) / (K - WARMUP)
            out.append(PEAK_LR * (MIN_LR_RATIO + (1 - MIN_LR_RATIO) * 0.5 * (1 + math.cos(math.pi * progress))))
    return out


def draw(gen: torch.Generator) -> tuple[dict[str, torch.Tensor], list[dict[str, torch.Tensor]]]:
    init = {n: torch.randn(shape, generator=gen, dtype=torch.float64).float() for n, (shape, _) in PARAMS.items()}
    grads = []
    for scale in GRAD_SCALES:
        step = {n: (torch.randn(shape, generator=gen, dtype=torch.float64) * scale).float() for n, (shape, _) in PARAMS.items()}
        step["matrix"][0, 0] = 0.0
        grads.append(step)
    return init, grads


def run_torch(init, grads, lrs, dtype, clip=CLIP, eps=EPS, weight_decay=WEIGHT_DECAY):
    params = {n: torch.nn.Parameter(v.to(dtype).clone()) for n, v in init.items()}
    decay = [params[n] for n, (_, d) in PARAMS.items() if d]
    no_decay = [params[n] for n, (_, d) in PARAMS.items() if not d]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lrs[0], betas=BETAS, eps=eps, foreach=False,
    )
    steps, norms, losses = [], [], []
    for t in range(K):
        for group in opt.param_groups:
            group["lr"] = lrs[t]
        opt.zero_grad(set_to_none=True)
        g = {n: grads[t][n].to(dtype) for n in params}
        loss = sum((params[n] * g[n]).sum() for n in params)
        loss.backward()
        for n in params:
            assert torch.equal(params[n].grad, g[n]), f"dL/d{n} is not G exactly"
        norm = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm=clip) if clip else None
        opt.step()
        state = {}
        for n, p in params.items():
            s = opt.state[p]
            state[n] = p.detach().clone()
            state[f"{n}.exp_avg"] = s["exp_avg"].clone()
            state[f"{n}.exp_avg_sq"] = s["exp_avg_sq"].clone()
        steps.append(state)
        norms.append(norm.item() if norm is not None else float("nan"))
        losses.append(loss.item())
    return steps, norms, losses


def reimplement_f64(init, grads, lrs):
    """AdamW in float64 numpy, written from the formulas (Loshchilov & Hutter, torch's decoupled form)."""
    p = {n: v.double().numpy().copy() for n, v in init.items()}
    m = {n: np.zeros_like(v) for n, v in p.items()}
    v = {n: np.zeros_like(x) for n, x in p.items()}
    out = []
    for t in range(1, K + 1):
        g = {n: grads[t - 1][n].double().numpy() for n in p}
        norm = math.sqrt(sum(float((x * x).sum()) for x in g.values()))
        factor = min(1.0, CLIP / (norm + 1e-6))
        state = {}
        for n, (_, decay) in PARAMS.items():
            d = g[n] * factor
            m[n] = BETAS[0] * m[n] + (1 - BETAS[0]) * d
            v[n] = BETAS[1] * v[n] + (1 - BETAS[1]) * d * d
            m_hat = m[n] / (1 - BETAS[0] ** t)
            v_hat = v[n] / (1 - BETAS[1] ** t)
            wd = WEIGHT_DECAY if decay else 0.0
            p[n] = p[n] - lrs[t - 1] * (m_hat / (np.sqrt(v_hat) + EPS) + wd * p[n])
            state[n], state[f"{n}.exp_avg"], state[f"{n}.exp_avg_sq"] = p[n].copy(), m[n].copy(), v[n].copy()
        out.append(state)
    return out


def max_diff(a: list[dict], b: list[dict]) -> float:
    return max(float(np.abs(np.asarray(x[k]) - np.asarray(y[k])).max()) for x, y in zip(a, b) for k in x)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="test/fixtures/optim")
    out_dir = Path(parser.parse_args().out)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)

    gen = torch.Generator().manual_seed(SEED)
    init, grads = draw(gen)
    lrs = lr_schedule()

    tensors: dict[str, np.ndarray] = {"lr": np.asarray(lrs, dtype=np.float64)}
    figures: dict[str, object] = {}
    for tag, dtype in (("f32", torch.float32), ("f64", torch.float64)):
        steps, norms, losses = run_torch(init, grads, lrs, dtype)
        np_dtype = np.float32 if dtype == torch.float32 else np.float64
        for n, v in init.items():
            tensors[f"{tag}.init.{n}"] = v.to(dtype).numpy()
        for t in range(K):
            for n in PARAMS:
                tensors[f"{tag}.grad.{t + 1}.{n}"] = grads[t][n].to(dtype).numpy()
            for k, v in steps[t].items():
                tensors[f"{tag}.step.{t + 1}.{k}"] = v.numpy()
        tensors[f"{tag}.grad_norm"] = np.asarray(norms, dtype=np_dtype)
        tensors[f"{tag}.loss"] = np.asarray(losses, dtype=np_dtype)
        figures[f"{tag}_grad_norm"] = norms
        if tag == "f64":
            own = reimplement_f64(init, grads, lrs)
            diff = max_diff([{k: v.numpy() for k, v in s.items()} for s in steps], own)
            assert diff < 1e-14, f"float64 re-implementation differs from torch by {diff}"
            figures["f64_reimplementation_max_abs_diff"] = diff

    # The fixture must tell the variants apart: clipping only at step 2, eps and decay matter.
    clipped = [i + 1 for i, n in enumerate(figures["f32_grad_norm"]) if n > CLIP]
    assert clipped == [2], f"clipping bites at steps {clipped}, expected [2]"
    ref, *_ = run_torch(init, grads, lrs, torch.float64)
    for label, kwargs in (("no_clip", {"clip": 0}), ("eps_1e-12", {"eps": 1e-12}), ("no_decay", {"weight_decay": 0.0})):
        alt, *_ = run_torch(init, grads, lrs, torch.float64, **kwargs)
        d = max(float((a[n] - r[n]).abs().max()) for a, r in zip(alt, ref) for n in PARAMS)
        assert d > 1e-5, f"{label}: the parameters move by only {d}; the fixture would not notice"
        figures[f"alt_{label}_max_abs_param_diff"] = d

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "adamw.safetensors"
    metadata = {
        "description": "torch.optim.AdamW steps on L = sum_p sum(p * G_p); see scripts/reference/make_adamw_fixtures.py",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
        "seed": str(SEED),
        "steps": str(K),
        "betas": json.dumps(BETAS),
        "eps": repr(EPS),
        "weight_decay": repr(WEIGHT_DECAY),
        "clip_max_norm": repr(CLIP),
        "grad_scales": json.dumps(GRAD_SCALES),
        "params": json.dumps({n: {"shape": list(s), "decay": d} for n, (s, d) in PARAMS.items()}),
        "optimizer": "torch.optim.AdamW(foreach=False) in two param groups (decay 0.1 / 0); clip_grad_norm_(max_norm=1.0) before each step",
        "figures": json.dumps(figures),
    }
    save_file(tensors, str(path), metadata=metadata)
    sort_metadata_keys(path)
    print(f"wrote {path} ({path.stat().st_size} bytes)")
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
