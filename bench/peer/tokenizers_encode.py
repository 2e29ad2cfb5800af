"""Peer for `npm run bench -- fertility`: the Rust `tokenizers` library encodes the same texts.

stdin: a JSON list of texts. argv: tokenizer.json path, repeats. Prints one JSON line:
{"version", "tokens", "load_ms", "encode_ms"} (encode_ms = best of the repeats, one text at a time,
no special tokens, like ours).
"""
import json
import sys
import time

import tokenizers


def main() -> None:
    path, repeats = sys.argv[1], int(sys.argv[2])
    texts = json.load(sys.stdin)
    t0 = time.perf_counter()
    tok = tokenizers.Tokenizer.from_file(path)
    load_ms = (time.perf_counter() - t0) * 1000
    best = float("inf")
    tokens = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        tokens = sum(len(tok.encode(t, add_special_tokens=False).ids) for t in texts)
        best = min(best, (time.perf_counter() - t0) * 1000)
    print(json.dumps({"version": tokenizers.__version__, "tokens": tokens, "load_ms": load_ms, "encode_ms": best}))


if __name__ == "__main__":
    main()
