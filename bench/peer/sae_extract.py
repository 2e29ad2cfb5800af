"""Peer for `npm run bench -- analyze`: the same SAE extraction with HF transformers + torch.

argv: one JSON file {"model": folder, "saes": [26 .safetensors, layer order], "bos_id", "repeats",
"batches": {name: [[token ids], ...]}}, then optionally `--dtype bfloat16` (default float32: the
model in bfloat16, its layer outputs widened to float32 for the SAEs, which stay float32 as in our
fast precision). Loads Gemma2ForCausalLM in that dtype (eager attention, one
torch thread per core, the config as bench/peer/hf_forward.py reads it) and our SAE files
memory-mapped (numpy memmap over the safetensors data, zero-copy into torch, as ours maps them).
Each decoder layer's output (blocks.L.hook_resid_post) goes through its JumpReLU SAE inside a
forward hook (so no layer's activations are kept), computing what our fused graph computes:
  pre = x W_enc + b_enc   (x − b_dec first only when the file's apply_b_dec_to_input says so)
  acts = relu(pre) · [pre > threshold];  recon = acts W_dec + b_dec
  per phrase over its counted tokens (real ones, BOS excluded): mean and max of every feature,
  the (feature, mean, max) lists of the active ones, and the fidelity sums (Σ‖x − x̂‖², Σ‖x‖²,
  Σ cos, Σ L0, ‖Σx‖²), plus a NaN count.
Batches are right-padded with attention_mask, like ours. Timing: the whole decoder call with the
SAE hooks, one warm-up then the median of the repeats. Prints one JSON line:
{"torch", "transformers", "dtype", "threads", "load_ms", "timings": {name: {ms, median_ms, warmup_ms,
 others_cpu_pct}}, "max_rss_bytes", "check": {"nnz", "mean_sum", "max_sum", "l0"} (first batch,
 per phrase then SAE)}.
"""
import json
import os
import resource
import statistics
import struct
import sys
import time
import warnings

import numpy as np
import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hf_forward import DTYPES as MODEL_DTYPES, cpu_snapshot, dtype_option, load_config, others_cpu_pct  # noqa: E402

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "F64": np.float64}


def load_sae(path: str) -> dict:
    """Our SAE file: tensors as torch views of a read-only memmap, settings from the metadata."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    meta = header.pop("__metadata__", {}) or {}
    cfg = json.loads(meta["linguascope_sae"])
    if cfg.get("architecture") != "jumprelu" or cfg.get("normalize_activations", "none") != "none":
        raise SystemExit(f"{path}: the peer handles JumpReLU without normalisation only, got {cfg}")
    tensors = {}
    for name, t in header.items():
        dtype = DTYPES.get(t["dtype"])
        if dtype is None:
            raise SystemExit(f"{path}: {name} is {t['dtype']}; the peer reads F32/F16/F64")
        start, end = t["data_offsets"]
        arr = np.memmap(path, dtype=dtype, mode="r", offset=8 + n + start, shape=tuple(t["shape"]))
        assert arr.nbytes == end - start
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # read-only memmap: torch warns it is not writable
            tensors[name] = torch.from_numpy(arr).float() if dtype is not np.float32 else torch.from_numpy(arr)
    return {"cfg": cfg, "apply_b_dec": bool(cfg.get("apply_b_dec_to_input", False)), **tensors}


def summaries(x: torch.Tensor, sae: dict, m3: torch.Tensor) -> dict:
    """x (B, T, d); m3 (B, T, 1) float, 1 on counted tokens."""
    B, T, d = x.shape
    flat = x.reshape(B * T, d)
    xin = flat - sae["b_dec"] if sae["apply_b_dec"] else flat
    pre = torch.addmm(sae["b_enc"], xin, sae["W_enc"])
    acts = torch.where(pre > sae["threshold"], torch.relu(pre), torch.zeros((), dtype=pre.dtype))
    recon = torch.addmm(sae["b_dec"], acts, sae["W_dec"])
    a3 = acts.view(B, T, -1) * m3
    count = m3.sum(1).clamp(min=1)
    mean = a3.sum(1) / count
    mx = a3.amax(1)
    index = (mx > 0).nonzero()
    diff = flat - recon
    sse = (diff * diff).sum(-1)
    sq = (flat * flat).sum(-1)
    rsq = (recon * recon).sum(-1)
    cos = (flat * recon).sum(-1) / (sq.sqrt() * rsq.sqrt() + 1e-12)
    l0 = (acts > 0).sum(-1).float()
    sums = (torch.stack([sse, sq, cos, l0], -1).view(B, T, 4) * m3).sum(1)
    sum_x = (x * m3).sum(1)
    fidelity = torch.cat([sums, (sum_x * sum_x).sum(1, keepdim=True)], 1)
    nans = int(torch.isnan(pre).sum() + torch.isnan(recon).sum())
    if nans:
        raise SystemExit(f"SAE on {sae['cfg'].get('hook_name')}: {nans} NaN values")
    return {"index": index, "mean": mean[index[:, 0], index[:, 1]], "max": mx[index[:, 0], index[:, 1]], "fidelity": fidelity, "count": m3.sum(1)[:, 0]}


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        job = json.load(f)
    dtype = dtype_option(sys.argv[2:])
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    config, _ = load_config(job["model"])
    model = transformers.Gemma2ForCausalLM.from_pretrained(job["model"], config=config, dtype=MODEL_DTYPES[dtype], attn_implementation="eager")
    model.eval()
    saes = [load_sae(p) for p in job["saes"]]
    load_ms = (time.perf_counter() - t0) * 1000
    decoder = model.model
    assert len(saes) == len(decoder.layers), f"{len(saes)} SAEs for {len(decoder.layers)} layers"
    state: dict = {}

    def hook(layer: int):
        def run_sae(_module, _inputs, output):
            h = output[0] if isinstance(output, tuple) else output
            h = h.float()  # the SAEs are float32 (a no-op for the float32 model)
            state["out"][layer] = summaries(h, saes[layer], state["m3"])

        return run_sae

    for i, layer in enumerate(decoder.layers):
        layer.register_forward_hook(hook(i))

    bos = job["bos_id"]
    timings = {}
    check = None
    with torch.inference_mode():
        for bi, (name, phrases) in enumerate(job["batches"].items()):
            B, T = len(phrases), max(len(p) for p in phrases)
            ids = torch.zeros((B, T), dtype=torch.long)
            mask = torch.zeros((B, T), dtype=torch.long)
            count = torch.zeros((B, T, 1), dtype=torch.float32)
            for b, p in enumerate(phrases):
                ids[b, : len(p)] = torch.tensor(p)
                mask[b, : len(p)] = 1
                count[b, : len(p)] = 1
                if p[0] == bos:
                    count[b, 0] = 0

            def run() -> float:
                state["out"] = {}
                state["m3"] = count
                t = time.perf_counter()
                decoder(input_ids=ids, attention_mask=mask, use_cache=False)
                elapsed = (time.perf_counter() - t) * 1000
                assert len(state["out"]) == len(saes)
                return elapsed

            warmup = run()
            before = cpu_snapshot()
            ms = [run() for _ in range(job["repeats"])]
            timings[name] = {
                "ms": [round(x) for x in ms],
                "median_ms": statistics.median(ms),
                "warmup_ms": round(warmup),
                "others_cpu_pct": others_cpu_pct(before, cpu_snapshot()),
            }
            print(f"peer {name}: {statistics.median(ms):.0f} ms", file=sys.stderr)
            if bi == 0:
                out = [state["out"][L] for L in range(len(saes))]
                check = {"nnz": [], "mean_sum": [], "max_sum": [], "l0": []}
                for b in range(B):
                    rows = [o["index"][:, 0] == b for o in out]
                    check["nnz"].append([int(r.sum()) for r in rows])
                    check["mean_sum"].append([float(o["mean"][r].double().sum()) for o, r in zip(out, rows)])
                    check["max_sum"].append([float(o["max"][r].double().sum()) for o, r in zip(out, rows)])
                    check["l0"].append([float(o["fidelity"][b, 3] / o["count"][b]) for o in out])

    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "dtype": dtype,
                "threads": threads,
                "load_ms": round(load_ms),
                "timings": timings,
                "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                "check": check,
            }
        )
    )


if __name__ == "__main__":
    main()
