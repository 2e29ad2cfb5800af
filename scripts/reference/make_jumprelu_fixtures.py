#!/usr/bin/env python3
"""JumpReLU SAE training fixtures: the loss, its straight-through gradients and two AdamW steps in
PyTorch, written from the formulas of Rajamanoharan et al. 2024 ("Jumping Ahead", section 4 and
appendix) with `torch.autograd.Function` backward rules for the pseudo-derivatives:

    pre = x @ W_enc + b_enc                       x (B, d), W_enc (d, w), b_enc (w)
    theta = exp(log_threshold)                    (w)
    f = JumpReLU(pre, theta) = pre * 1[pre > theta]
    x_hat = f @ W_dec + b_dec                     W_dec (w, d), b_dec (d)
    loss = mean_b ||x_b - x_hat_b||^2 + lam * mean_b sum_i Step(pre_bi, theta_i)
  backward (K(u) = 1[-1/2 < u < 1/2], eps the bandwidth):
    JumpReLU: d/dpre = 1[pre > theta],  d/dtheta = -(theta / eps) K((pre - theta) / eps)
    Step:     d/dpre = 0,               d/dtheta = -(1 / eps) K((pre - theta) / eps)

The fixture is small (B = 24, d = 8, w = 12) with thresholds placed among the pre-activations and a
wide bandwidth, so that many (b, i) fall inside the kernel and the threshold gradients are not
zero; the script asserts this. Independent checks inside the script: float64 central finite
differences of the loss agree with the autograd gradients of W_enc, b_enc, W_dec and b_dec (the
loss is smooth in them away from the jumps), and a numpy transcription of the log_threshold
formula agrees with autograd's.

Then two steps of torch.optim.AdamW(betas (0.9, 0.999), eps 1e-8, weight_decay 0, foreach=False)
with clip_grad_norm_(max_norm=1.0) before each (our JUMPRELU_ADAMW), batch 1 then batch 2, at
lr 1e-2 then 5e-3, lam fed per step (0.05 then 0.1, as a warm-up would).

Writes test/fixtures/jumprelu/jumprelu.safetensors with `f64.*` (torch in float64) and `f32.*`
(the same float32 draws, torch in float32):
    <dt>.x.1, <dt>.x.2                  the two batches (B, d)
    <dt>.init.<param>                   W_enc, b_enc, W_dec, b_dec, log_threshold
    <dt>.features                       f on batch 1 at init (B, w)
    <dt>.loss, <dt>.mse, <dt>.l0        scalars on batch 1 at init (lam of step 1)
    <dt>.grad.<param>                   d loss / d param on batch 1 at init
    <dt>.step.<t>.<param>               the parameter after AdamW step t (t = 1, 2)
    <dt>.grad_norm                      [2] the pre-clip global norm of each step
`__metadata__`: versions, seed, sizes, bandwidth, lam and lr per step, AdamW settings, figures.

Usage (from the repository root; torch, safetensors, numpy):
    ~/.venvs/ref/bin/python scripts/reference/make_jumprelu_fixtures.py [--out test/fixtures/jumprelu]
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path

import numpy as np
import safetensors
import torch
from safetensors.numpy import save_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from deterministic_safetensors import sort_metadata_keys  # noqa: E402

SEED = 20261130
B, D, W = 24, 8, 12
BANDWIDTH = 0.5
LAMBDAS = [0.05, 0.1]
LRS = [1e-2, 5e-3]
BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
CLIP = 1.0
NAMES = ["W_enc", "b_enc", "W_dec", "b_dec", "log_threshold"]


def kernel(u: torch.Tensor) -> torch.Tensor:
    """Rectangle K(u) = 1 for -1/2 < u < 1/2, else 0."""
    return ((u > -0.5) & (u < 0.5)).to(u.dtype)


class JumpReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pre, theta, eps):
        ctx.save_for_backward(pre, theta)
        ctx.eps = eps
        return pre * (pre > theta).to(pre.dtype)

    @staticmethod
    def backward(ctx, grad):
        pre, theta = ctx.saved_tensors
        eps = ctx.eps
        d_pre = (pre > theta).to(pre.dtype) * grad
        d_theta = (-(theta / eps) * kernel((pre - theta) / eps) * grad).sum(dim=0)
        return d_pre, d_theta, None


class Step(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pre, theta, eps):
        ctx.save_for_backward(pre, theta)
        ctx.eps = eps
        return (pre > theta).to(pre.dtype)

    @staticmethod
    def backward(ctx, grad):
        pre, theta = ctx.saved_tensors
        eps = ctx.eps
        d_theta = (-(1.0 / eps) * kernel((pre - theta) / eps) * grad).sum(dim=0)
        return torch.zeros_like(pre), d_theta, None


def forward(x, p, lam):
    pre = x @ p["W_enc"] + p["b_enc"]
    theta = torch.exp(p["log_threshold"])
    f = JumpReLU.apply(pre, theta, BANDWIDTH)
    x_hat = f @ p["W_dec"] + p["b_dec"]
    mse = ((x - x_hat) ** 2).sum(dim=1).mean()
    l0 = Step.apply(pre, theta, BANDWIDTH).sum(dim=1).mean()
    return f, mse, l0, mse + lam * l0


def draw(gen: torch.Generator):
    """float32 draws (made in float64, then cast). Thresholds sit among the pre-activations."""
    r = lambda *shape: torch.randn(*shape, generator=gen, dtype=torch.float64)  # noqa: E731
    xs = [(r(B, D) + 0.3).float() for _ in range(2)]
    w_dec = r(W, D)
    w_dec = w_dec / w_dec.norm(dim=1, keepdim=True)
    init = {
        "W_enc": (w_dec.T + 0.2 * r(D, W)).float().contiguous(),
        "b_enc": (0.1 * r(W)).float(),
        "W_dec": (w_dec + 0.1 * r(W, D)).float(),
        "b_dec": (0.1 * r(D)).float(),
        # theta in about [0.4, 1.3]: pre-activations have std ~ 1.
        "log_threshold": (np.log(0.75) + 0.3 * r(W)).float(),
    }
    return xs, init


def run(xs, init, dtype):
    p = {n: torch.nn.Parameter(init[n].to(dtype).clone()) for n in NAMES}
    x1 = xs[0].to(dtype)
    f, mse, l0, loss = forward(x1, p, LAMBDAS[0])
    grads = torch.autograd.grad(loss, [p[n] for n in NAMES])
    at_init = {"features": f.detach().clone(), "mse": mse.detach(), "l0": l0.detach(), "loss": loss.detach()}
    at_init.update({f"grad.{n}": g.clone() for n, g in zip(NAMES, grads)})

    opt = torch.optim.AdamW([p[n] for n in NAMES], lr=LRS[0], betas=BETAS, eps=ADAM_EPS, weight_decay=0.0, foreach=False)
    steps, norms = [], []
    for t in range(2):
        for group in opt.param_groups:
            group["lr"] = LRS[t]
        opt.zero_grad(set_to_none=True)
        *_, loss_t = forward(xs[t].to(dtype), p, LAMBDAS[t])
        loss_t.backward()
        norms.append(torch.nn.utils.clip_grad_norm_([p[n] for n in NAMES], max_norm=CLIP).item())
        opt.step()
        steps.append({n: p[n].detach().clone() for n in NAMES})
    return at_init, steps, norms


def finite_difference_check(xs, init) -> float:
    """Central differences (float64, h = 1e-6) of the loss in every entry of the smooth parameters."""
    base = {n: init[n].double().contiguous().clone() for n in NAMES}
    x1 = xs[0].double()
    p = {n: v.clone().requires_grad_(True) for n, v in base.items()}
    *_, loss = forward(x1, p, LAMBDAS[0])
    grads = dict(zip(NAMES, torch.autograd.grad(loss, [p[n] for n in NAMES])))
    worst = 0.0
    h = 1e-6
    with torch.no_grad():
        for n in ["W_enc", "b_enc", "W_dec", "b_dec"]:
            flat = base[n].view(-1)
            for i in range(flat.numel()):
                keep = flat[i].item()
                flat[i] = keep + h
                up = forward(x1, base, LAMBDAS[0])[3].item()
                flat[i] = keep - h
                down = forward(x1, base, LAMBDAS[0])[3].item()
                flat[i] = keep
                fd = (up - down) / (2 * h)
                err = abs(fd - grads[n].view(-1)[i].item()) / max(1.0, abs(fd))
                worst = max(worst, err)
    return worst


def numpy_threshold_gradient(xs, init) -> np.ndarray:
    """d loss / d log_threshold from the formulas, in numpy float64 (no autograd)."""
    x = xs[0].double().numpy()
    p = {n: init[n].double().numpy() for n in NAMES}
    pre = x @ p["W_enc"] + p["b_enc"]
    theta = np.exp(p["log_threshold"])
    on = (pre > theta).astype(np.float64)
    f = pre * on
    resid = x - (f @ p["W_dec"] + p["b_dec"])
    d_f = -(2.0 / B) * resid @ p["W_dec"].T  # d mse / d f, (B, w)
    k = (np.abs((pre - theta) / BANDWIDTH) < 0.5).astype(np.float64)
    d_theta = (d_f * (-(theta / BANDWIDTH) * k)).sum(axis=0) + LAMBDAS[0] * (-(1.0 / BANDWIDTH) * k).mean(axis=0)
    return d_theta * theta  # chain rule through theta = exp(log_threshold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="test/fixtures/jumprelu")
    out_dir = Path(parser.parse_args().out)
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    xs, init = draw(torch.Generator().manual_seed(SEED))

    figures: dict[str, object] = {}
    tensors: dict[str, np.ndarray] = {}
    for tag, dtype in (("f64", torch.float64), ("f32", torch.float32)):
        at_init, steps, norms = run(xs, init, dtype)
        for i, x in enumerate(xs):
            tensors[f"{tag}.x.{i + 1}"] = x.to(dtype).numpy()
        for n in NAMES:
            tensors[f"{tag}.init.{n}"] = init[n].to(dtype).numpy()
        for k, v in at_init.items():
            tensors[f"{tag}.{k}"] = v.numpy()
        for t, s in enumerate(steps):
            for n in NAMES:
                tensors[f"{tag}.step.{t + 1}.{n}"] = s[n].numpy()
        tensors[f"{tag}.grad_norm"] = np.asarray(norms, dtype=np.float64 if tag == "f64" else np.float32)
        figures[f"{tag}_grad_norm"] = norms
        figures[f"{tag}_loss"] = at_init["loss"].item()

    # The fixture must exercise what it claims to test.
    x1 = xs[0].double()
    pre = x1 @ init["W_enc"].double() + init["b_enc"].double()
    theta = torch.exp(init["log_threshold"].double())
    in_kernel = int((((pre - theta) / BANDWIDTH).abs() < 0.5).sum())
    active = int((pre > theta).sum())
    figures.update(in_kernel=in_kernel, active=active, entries=B * W)
    assert 20 <= in_kernel and 20 <= active <= B * W - 20, figures
    g_theta = tensors["f64.grad.log_threshold"]
    assert (np.abs(g_theta) > 1e-6).sum() >= W - 2, f"threshold gradients mostly zero: {g_theta}"
    own = numpy_threshold_gradient(xs, init)
    figures["numpy_threshold_grad_max_abs_diff"] = float(np.abs(own - g_theta).max())
    assert figures["numpy_threshold_grad_max_abs_diff"] < 1e-12, figures
    figures["finite_difference_worst_rel"] = finite_difference_check(xs, init)
    assert figures["finite_difference_worst_rel"] < 1e-6, figures
    assert any(n > CLIP for n in figures["f64_grad_norm"]), f"clipping never bites: {figures['f64_grad_norm']}"

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "jumprelu.safetensors"
    metadata = {
        "description": "JumpReLU SAE loss, straight-through gradients and AdamW steps in torch; see scripts/reference/make_jumprelu_fixtures.py",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "safetensors": safetensors.__version__,
        "numpy": np.__version__,
        "seed": str(SEED),
        "sizes": json.dumps({"B": B, "d": D, "w": W}),
        "bandwidth": repr(BANDWIDTH),
        "lambdas": json.dumps(LAMBDAS),
        "lrs": json.dumps(LRS),
        "betas": json.dumps(BETAS),
        "adam_eps": repr(ADAM_EPS),
        "weight_decay": "0.0",
        "clip_max_norm": repr(CLIP),
        "figures": json.dumps(figures),
    }
    save_file(tensors, str(path), metadata=metadata)
    sort_metadata_keys(path)
    print(f"wrote {path} ({path.stat().st_size} bytes)")
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
