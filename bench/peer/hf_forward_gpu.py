"""Peer for the GPU check (bench/gpu/check.ts): HF transformers on the same GPU, same folder.

argv: model folder, repeats, shapes as "name:batch:seq,..." (the check's shapes). For each dtype
(float32, float16, bfloat16) loads Gemma2ForCausalLM with eager attention onto cuda:0 and times the
decoder stack (model.model: no lm_head, like ours without logits) under torch.inference_mode with
forward hooks keeping the decoder layers' outputs (blocks.L.hook_resid_post), which are copied to
the host as float32 after each run, as ours come back (torch.cuda.synchronize before each clock
read). Token ids: bench/forward.ts's LCG with seed 1000 + shape index, as ours. One warm-up, then
the median of the repeats. Prints one JSON line:
{"torch", "transformers", "device", "config_ints_widened",
 "dtypes": {dtype: {"load_ms", "shapes": {name: {median_ms, warmup_ms, tokens_per_s}}}}}.
"""
import json
import statistics
import sys
import time

import torch
import transformers

from hf_forward import load_config, phrases

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def main() -> None:
    path, repeats, spec = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if not torch.cuda.is_available():
        print("hf_forward_gpu: torch sees no CUDA device", file=sys.stderr)
        sys.exit(3)
    shapes = [(n, int(b), int(t)) for n, b, t in (s.split(":") for s in spec.split(","))]
    config, widened = load_config(path)
    out = {}
    for dname, dtype in DTYPES.items():
        t0 = time.perf_counter()
        model = transformers.Gemma2ForCausalLM.from_pretrained(path, config=config, dtype=dtype, attn_implementation="eager").to("cuda")
        model.eval()
        torch.cuda.synchronize()
        load_ms = (time.perf_counter() - t0) * 1000
        decoder = model.model
        captured: dict[int, torch.Tensor] = {}

        def hook(layer: int):
            def keep(_module, _inputs, output):
                captured[layer] = output[0] if isinstance(output, tuple) else output

            return keep

        handles = [layer.register_forward_hook(hook(i)) for i, layer in enumerate(decoder.layers)]
        timings = {}
        with torch.inference_mode():
            for i, (name, batch, seq) in enumerate(shapes):
                ids = torch.tensor(phrases(batch, seq, model.config.vocab_size, 1000 + i), dtype=torch.long, device="cuda")
                mask = torch.ones_like(ids)

                def run() -> float:
                    captured.clear()
                    torch.cuda.synchronize()
                    t = time.perf_counter()
                    decoder(input_ids=ids, attention_mask=mask, use_cache=False)
                    host = [captured[L].float().cpu() for L in range(len(decoder.layers))]
                    torch.cuda.synchronize()
                    assert len(host) == len(decoder.layers)
                    return (time.perf_counter() - t) * 1000

                warmup = run()
                ms = [run() for _ in range(repeats)]
                median = statistics.median(ms)
                timings[name] = {"median_ms": round(median, 2), "warmup_ms": round(warmup), "tokens_per_s": round(batch * seq / median * 1000, 1)}
        for h in handles:
            h.remove()
        out[dname] = {"load_ms": round(load_ms), "shapes": timings}
        del model, decoder
        torch.cuda.empty_cache()
    print(json.dumps({"torch": torch.__version__, "transformers": transformers.__version__, "device": torch.cuda.get_device_name(0), "config_ints_widened": widened, "dtypes": out}))


if __name__ == "__main__":
    main()
