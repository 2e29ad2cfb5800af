"""Peer for `npm run bench -- finetune`: PyTorch + PEFT take the same LoRA fine-tune step.

argv: the input JSON bench/finetune.ts writes (model folder, SAE files, loss and adapted layers,
LoRA rank/alpha/modules, loss α, AdamW settings, the English and target token ids, steps).
Gemma2ForCausalLM from the folder in float32 (eager attention, one torch thread per core), PEFT
LoRA on the same modules of the same layers (dropout 0), the SAEs' W_enc, b_enc and threshold
from the same safetensors files, and the loss of src/main/train/alignment-loss.ts with its
defaults (SAE codes a = relu(pre)·[pre > θ], mean over each phrase's tokens but BOS, features
"all", mean over features, direction both):
    L = Σ_l (1/P) Σ_p (1/w) Σ_f |u − v| + α (1/P) Σ_p (1/w) Σ_f (u − u_orig)²
u_orig comes from a frozen pass (adapters disabled), as ours. The decoder stops after the deepest
loss layer (a hook raises), as our graph ends there. A step: zero_grad, forward, backward,
clip_grad_norm_, AdamW.step. One warm-up step, then the median of `steps` timed steps; then the
median of `steps` forward-only runs (torch.no_grad, adapters on) of the same loss. Prints one
JSON line: versions, threads, load_ms, frozen_ms, warmup_ms, train and forward timings
({ms, median_ms, others_cpu_pct}), per-step losses, trainable_parameters, max_rss_bytes.
"""
import json
import os
import resource
import statistics
import sys
import time

import peft
import safetensors.torch
import torch
import transformers

from hf_forward import cpu_snapshot, load_config, others_cpu_pct


class StopForward(Exception):
    """Raised after the deepest loss layer: the layers above it do not change the loss."""


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        inp = json.load(f)
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    config, _ = load_config(inp["model"])
    model = transformers.Gemma2ForCausalLM.from_pretrained(inp["model"], config=config, dtype=torch.float32, attn_implementation="eager")
    decoder = model.model
    lora = peft.LoraConfig(
        r=inp["rank"],
        lora_alpha=inp["lora_alpha"],
        lora_dropout=0.0,
        target_modules=inp["modules"],
        layers_to_transform=inp["adapt_layers"],
        bias="none",
    )
    model = peft.get_peft_model(model, lora)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    saes = []
    for file in inp["saes"]:
        t = safetensors.torch.load_file(file)
        saes.append((t["W_enc"].float(), t["b_enc"].float(), t["threshold"].float()))
    load_ms = (time.perf_counter() - t0) * 1000

    layers = inp["loss_layers"]
    deepest = max(layers)
    captured: dict[int, torch.Tensor] = {}

    def hook(index: int):
        def keep(_module, _inputs, output):
            captured[index] = output[0] if isinstance(output, tuple) else output
            if index == deepest:
                raise StopForward

        return keep

    for L in layers:
        decoder.layers[L].register_forward_hook(hook(L))

    P = len(inp["en"])
    ids = torch.tensor(inp["en"] + inp["tgt"], dtype=torch.long)
    attention = torch.ones_like(ids)
    counted = torch.ones(ids.shape, dtype=torch.float32)
    counted[:, 0] = (ids[:, 0] != inp["bos_id"]).float()
    count = counted.sum(1, keepdim=True).clamp(min=1)

    def reduced() -> list[torch.Tensor]:
        """Per loss layer, every phrase's mean SAE codes over its counted tokens: (2P, w)."""
        captured.clear()
        try:
            decoder(input_ids=ids, attention_mask=attention, use_cache=False)
        except StopForward:
            pass
        out = []
        for L, (w_enc, b_enc, threshold) in zip(layers, saes):
            pre = captured[L] @ w_enc + b_enc
            codes = torch.where(pre > threshold, torch.relu(pre), torch.zeros_like(pre))
            out.append((codes * counted[..., None]).sum(1) / count)
        return out

    t = time.perf_counter()
    with torch.no_grad(), model.disable_adapter():
        uorig = [r[:P].clone() for r in reduced()]
    frozen_ms = (time.perf_counter() - t) * 1000

    def loss_terms() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        term1 = torch.zeros(())
        term2 = torch.zeros(())
        for r, u0 in zip(reduced(), uorig):
            u, v = r[:P], r[P:]
            width = r.shape[1]  # features "all": n = Σ_f w = width
            term1 = term1 + ((u - v).abs().sum(1) / width).mean()
            term2 = term2 + ((u - u0).pow(2).sum(1) / width).mean()
        return term1 + inp["alpha"] * term2, term1, term2

    optimizer = torch.optim.AdamW(params, lr=inp["lr"], betas=(inp["beta1"], inp["beta2"]), eps=inp["eps"], weight_decay=inp["weight_decay"])
    losses = []

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss, term1, term2 = loss_terms()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, inp["clip_norm"]) if inp["clip_norm"] > 0 else torch.tensor(float("nan"))
        optimizer.step()
        losses.append({"loss": loss.item(), "term1": term1.item(), "term2": term2.item(), "grad_norm": norm.item()})

    def timed(run, repeats: int) -> dict:
        before = cpu_snapshot()
        ms = []
        for _ in range(repeats):
            t = time.perf_counter()
            run()
            ms.append((time.perf_counter() - t) * 1000)
        return {"ms": [round(x) for x in ms], "median_ms": statistics.median(ms), "others_cpu_pct": others_cpu_pct(before, cpu_snapshot())}

    t = time.perf_counter()
    step()
    warmup_ms = (time.perf_counter() - t) * 1000
    train = timed(step, inp["steps"])

    def forward_only() -> None:
        with torch.no_grad():
            loss_terms()

    forward = timed(forward_only, inp["steps"])

    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "peft": peft.__version__,
                "threads": threads,
                "load_ms": round(load_ms),
                "frozen_ms": round(frozen_ms),
                "warmup_ms": round(warmup_ms),
                "train": train,
                "forward": forward,
                "losses": losses,
                "trainable_parameters": sum(p.numel() for p in params),
                "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
