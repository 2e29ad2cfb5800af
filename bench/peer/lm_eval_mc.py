"""Peer for `npm run bench -- eval`: lm-evaluation-harness scores the same multiple-choice items.

argv: the input JSON bench/eval.ts writes ({"model": folder, "data": test.jsonl in the
alexandrainst m_arc layout, "batch_size": n, "threads": n}).
The harness's own Okapi ARC task (okapi/arc_multilingual: process_docs, "Question: {q}\\nAnswer:",
choices, acc/acc_norm) with only the dataset location overridden (dataset_path json, data_files =
that file), 0-shot, through HFLM (`--model hf`: pretrained=<folder>, dtype float32, device cpu,
batch_size n) with torch limited to `threads` threads.
Phases timed apart: load (HFLM: model + tokenizer), the loglikelihood phase (lm.loglikelihood over
every request: encoding the pairs and the forwards, what items/s is computed from) and the whole
simple_evaluate call (task set-up, dataset read, metrics included). Prints one JSON line: versions,
threads, batch_size, load_ms, loglik_ms, loglik_cpu_s (this process's CPU seconds in that phase),
evaluate_ms, others_cpu_pct (other processes' share of the cores during the loglikelihood phase), requests, per-request token lengths, per-item log-likelihoods
with acc/acc_norm, the task's acc/acc_norm, max_rss_bytes.
"""
import importlib.metadata as md
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder and a local file: never the network
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import lm_eval  # noqa: E402
import torch  # noqa: E402
from lm_eval.models.huggingface import HFLM  # noqa: E402
from lm_eval.tasks import TaskManager  # noqa: E402

from hf_forward import cpu_snapshot, others_cpu_pct  # noqa: E402

TASK = "bench_arc_mc"


def task_yaml(data: str) -> str:
    """The harness's arc_multilingual config (included, so its process_docs and prompt are the
    harness's own), reading `data` as the test split."""
    okapi = Path(lm_eval.__file__).parent / "tasks" / "okapi" / "arc_multilingual" / "arc_en.yaml"
    if not okapi.exists():  # the Okapi set has no English; any language file carries the same config
        okapi = okapi.with_name("arc_es.yaml")
    return (f"include: {json.dumps(str(okapi))}\n"
            f"task: {TASK}\n"
            "dataset_path: json\ndataset_name: null\ndataset_kwargs:\n  data_files:\n"
            f"    test: {json.dumps(data)}\n"
            "training_split: null\nvalidation_split: null\ntest_split: test\n")


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        inp = json.load(f)
    threads = int(inp["threads"])
    torch.set_num_threads(threads)

    t0 = time.perf_counter()
    lm = HFLM(pretrained=inp["model"], dtype="float32", device="cpu", batch_size=int(inp["batch_size"]))
    load_ms = (time.perf_counter() - t0) * 1000

    # The loglikelihood phase: every request of the task goes through this one call.
    phase = {}
    requests_seen = []
    inner = lm.loglikelihood

    def timed_loglikelihood(requests, *args, **kwargs):
        requests_seen.extend(requests)
        before = cpu_snapshot()
        t = time.perf_counter()
        out = inner(requests, *args, **kwargs)
        phase["ms"] = (time.perf_counter() - t) * 1000
        after = cpu_snapshot()
        phase["others_cpu_pct"] = others_cpu_pct(before, after)
        phase["cpu_s"] = round(after[2] - before[2], 1) if before and after else None
        return out

    lm.loglikelihood = timed_loglikelihood

    with tempfile.TemporaryDirectory() as td:
        Path(td, f"{TASK}.yaml").write_text(task_yaml(inp["data"]), encoding="utf-8")
        t = time.perf_counter()
        tm = TaskManager(include_path=td)
        res = lm_eval.simple_evaluate(model=lm, tasks=[TASK], task_manager=tm, num_fewshot=None,
                                      log_samples=True, bootstrap_iters=0)
        evaluate_ms = (time.perf_counter() - t) * 1000

    # Token lengths as the harness encodes each pair (context tokens, continuation tokens).
    lengths = []
    for r in requests_seen:
        ctx, cont = r.args[0], r.args[1]
        c, k = lm._encode_pair(ctx, cont)
        lengths.append([len(c), len(k)])

    items = []
    for s in sorted(res["samples"][TASK], key=lambda s: s["doc_id"]):
        items.append({
            "doc_id": s["doc_id"],
            "loglikelihoods": [float(r[0]) for r in s["filtered_resps"]],
            "is_greedy": [bool(r[1]) for r in s["filtered_resps"]],
            "acc": int(s["acc"]),
            "acc_norm": int(s["acc_norm"]),
        })
    r = res["results"][TASK]
    print(json.dumps({
        "lm_eval": md.version("lm_eval"),
        "torch": torch.__version__,
        "transformers": md.version("transformers"),
        "threads": torch.get_num_threads(),
        "batch_size": int(inp["batch_size"]),
        "load_ms": round(load_ms),
        "loglik_ms": round(phase["ms"]),
        "loglik_cpu_s": phase["cpu_s"],
        "evaluate_ms": round(evaluate_ms),
        "others_cpu_pct": phase["others_cpu_pct"],
        "requests": len(requests_seen),
        "lengths": lengths,
        "items": items,
        "acc": r["acc,none"],
        "acc_norm": r["acc_norm,none"],
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    main()
