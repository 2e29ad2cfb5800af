"""Peer for `npm run bench -- translate`: HF transformers' generate() on the same opus-mt folder.

argv: an input JSON file written by bench/translate.ts:
{"model": folder, "batches": [[[ids...], ...], ...], "max_new_tokens": N, "threads": T,
 "modes": [{"name", "num_beams"}], "check": n}
The batches are the bench's (sorted by length, right-padded here with the pad token and an
attention mask, as MarianTokenizer pads). Loads MarianMTModel in float32 (the attention
implementation transformers picks by default), torch threads = T, and per mode runs one warm-up
batch, then every batch once under torch.inference_mode, timed as a whole. generate() gets the
folder's generation_config with num_beams and max_new_tokens set. Prints one JSON line:
{"torch", "transformers", "threads", "attn_implementation", "load_ms",
 "modes": {name: {ms, cpu_s, others_cpu_pct, warmup_ms, sentences, new_tokens, sequences: first `check`}},
 "max_rss_bytes"}.
"""
import json
import os
import resource
import sys
import time

import torch
import transformers
from transformers import MarianMTModel


def cpu_snapshot():
    """(wall s, machine busy CPU s from /proc/stat, this process's CPU s), as bench/machine.ts."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except OSError:
        return None
    return time.perf_counter(), (sum(fields) - fields[3] - fields[4]) / 100, time.process_time()


def others_cpu_pct(a, b):
    if a is None or b is None:
        return None
    others = max(0.0, b[1] - a[1] - (b[2] - a[2]))
    return round(others / ((b[0] - a[0]) * (os.cpu_count() or 1)) * 100)


def padded(batch, pad):
    """Right-padded input_ids and attention_mask, as MarianTokenizer(padding=True) gives."""
    width = max(len(s) for s in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for i, s in enumerate(batch):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return ids, mask


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    torch.set_num_threads(spec["threads"])
    t0 = time.perf_counter()
    model = MarianMTModel.from_pretrained(spec["model"], dtype=torch.float32).eval()
    load_ms = (time.perf_counter() - t0) * 1000
    pad = model.config.pad_token_id
    inputs = [padded(b, pad) for b in spec["batches"]]
    modes = {}
    with torch.inference_mode():
        for mode in spec["modes"]:
            kwargs = {"num_beams": mode["num_beams"], "max_new_tokens": spec["max_new_tokens"]}
            w0 = time.perf_counter()
            model.generate(input_ids=inputs[0][0], attention_mask=inputs[0][1], **kwargs)
            warmup_ms = (time.perf_counter() - w0) * 1000
            before = cpu_snapshot()
            c0 = time.process_time()
            t0 = time.perf_counter()
            outs = [model.generate(input_ids=ids, attention_mask=mask, **kwargs) for ids, mask in inputs]
            ms = (time.perf_counter() - t0) * 1000
            cpu_s = time.process_time() - c0
            sequences = [row for out in outs for row in out.tolist()]
            modes[mode["name"]] = {
                "ms": ms,
                "cpu_s": cpu_s,
                "others_cpu_pct": others_cpu_pct(before, cpu_snapshot()),
                "warmup_ms": warmup_ms,
                "sentences": len(sequences),
                # generated tokens: the start token and padding excluded (pad is banned from the output)
                "new_tokens": sum(len([t for t in s[1:] if t != pad]) for s in sequences),
                "sequences": sequences[: spec["check"]],
            }
            print(json.dumps({"mode": mode["name"], "ms": round(ms)}), file=sys.stderr)
    print(json.dumps({
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "threads": torch.get_num_threads(),
        "attn_implementation": model.config._attn_implementation,
        "load_ms": load_ms,
        "modes": modes,
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    main()
