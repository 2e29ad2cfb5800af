"""Peer for `npm run bench -- forward`: HF transformers runs the same random Gemma-2-2B folder.

argv: model folder, repeats, then optionally `--dtype bfloat16` (default float32). Loads
Gemma2ForCausalLM in that dtype (bfloat16: the float32 weights rounded by from_pretrained; torch's
CPU matmuls then go through oneDNN, which uses AVX512-BF16 / AMX-BF16 where the CPU has them)
with eager attention, one torch thread per core, and times the decoder stack (model.model: no lm_head, like ours without logits)
under torch.inference_mode with forward hooks keeping the 26 decoder layers' outputs
(blocks.L.hook_resid_post), on the same shapes and token ids as ours (8 x 32, 1 x 128; one
warm-up, then the median of the repeats). Prints one JSON line:
{"torch", "transformers", "dtype", "threads", "config_ints_widened", "load_ms",
 "shapes": {name: {ms, median_ms, warmup_ms, others_cpu_pct}}, "max_rss_bytes"}.
"""
import json
import os
import resource
import statistics
import sys
import time
import typing

import torch
import transformers

SHAPES = [("8x32", 8, 32), ("1x128", 1, 128)]


def cpu_snapshot() -> tuple[float, float, float] | None:
    """(wall s, machine busy CPU s from /proc/stat, this process's CPU s), as bench/forward.ts."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except OSError:
        return None
    return time.perf_counter(), (sum(fields) - fields[3] - fields[4]) / 100, time.process_time()


def others_cpu_pct(a, b) -> int | None:
    """Percent of the cores other processes kept busy between two snapshots."""
    if a is None or b is None:
        return None
    others = max(0.0, b[1] - a[1] - (b[2] - a[2]))
    return round(others / ((b[0] - a[0]) * (os.cpu_count() or 1)) * 100)


def phrases(batch: int, seq: int, vocab: int, seed: int) -> list[list[int]]:
    """The same LCG as bench/forward.ts: ids in [3, vocab)."""
    s = seed & 0xFFFFFFFF
    out = []
    for _ in range(batch):
        row = []
        for _ in range(seq):
            s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
            row.append(3 + int((s / 4294967296) * (vocab - 3)))
        out.append(row)
    return out


def load_config(path: str) -> tuple[transformers.Gemma2Config, list[str]]:
    """config.json as Gemma2Config. JSON writers without a float type (JavaScript's) store 30.0 as
    30, which transformers 5's strict config fields typed `float` refuse: such ints are widened
    (and named in the output) so the peer still runs."""
    with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
        raw = json.load(f)
    fields = getattr(transformers.Gemma2Config, "__annotations__", {})

    def float_only(key: str) -> bool:
        args = typing.get_args(fields[key]) or (fields[key],)
        return float in args and int not in args

    widened = [k for k, v in raw.items() if type(v) is int and k in fields and float_only(k)]
    for k in widened:
        raw[k] = float(raw[k])
    return transformers.Gemma2Config(**raw), widened


DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def dtype_option(args: list[str]) -> str:
    """`--dtype NAME` among the trailing arguments; float32 when absent."""
    if not args:
        return "float32"
    if len(args) != 2 or args[0] != "--dtype" or args[1] not in DTYPES:
        raise SystemExit(f"expected nothing or --dtype {'|'.join(DTYPES)} after the positional arguments; got {args}")
    return args[1]


def main() -> None:
    path, repeats = sys.argv[1], int(sys.argv[2])
    dtype = dtype_option(sys.argv[3:])
    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    config, widened = load_config(path)
    model = transformers.Gemma2ForCausalLM.from_pretrained(path, config=config, dtype=DTYPES[dtype], attn_implementation="eager")
    model.eval()
    load_ms = (time.perf_counter() - t0) * 1000
    decoder = model.model
    captured: dict[int, torch.Tensor] = {}

    def hook(layer: int):
        def keep(_module, _inputs, output):
            captured[layer] = output[0] if isinstance(output, tuple) else output

        return keep

    for i, layer in enumerate(decoder.layers):
        layer.register_forward_hook(hook(i))

    shapes = {}
    with torch.inference_mode():
        for i, (name, batch, seq) in enumerate(SHAPES):
            ids = torch.tensor(phrases(batch, seq, model.config.vocab_size, 1000 + i), dtype=torch.long)
            mask = torch.ones_like(ids)

            def run() -> float:
                captured.clear()
                t = time.perf_counter()
                decoder(input_ids=ids, attention_mask=mask, use_cache=False)
                elapsed = (time.perf_counter() - t) * 1000
                assert len(captured) == len(decoder.layers)
                return elapsed

            warmup = run()
            before = cpu_snapshot()
            ms = [run() for _ in range(repeats)]
            shapes[name] = {
                "ms": [round(x) for x in ms],
                "median_ms": statistics.median(ms),
                "warmup_ms": round(warmup),
                "others_cpu_pct": others_cpu_pct(before, cpu_snapshot()),
            }

    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "dtype": dtype,
                "threads": threads,
                "config_ints_widened": widened,
                "load_ms": round(load_ms),
                "shapes": shapes,
                "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
