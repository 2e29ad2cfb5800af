#!/usr/bin/env python3
"""Python's `random.Random` (Mersenne Twister, CPython's seeding, _randbelow, shuffle, sample) as the
original Okapi evaluator uses it for few-shot draws: writes test/fixtures/py-random/random.json with
the outputs of random.Random(seed) for a few seeds: getrandbits(32) x 8, random() x 8, shuffle of
range(n) for several n, and sample(range(n), k) for pools below and above sample's set-size switch.
src/main/eval/py-random.test.ts reproduces every value exactly.

Run:  /root/.venvs/ref/bin/python scripts/reference/make_py_random_fixtures.py
"""
import json
import platform
import random
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "py-random" / "random.json"


def case(seed):
    r = random.Random(seed)
    out = {"seed": seed, "getrandbits32": [r.getrandbits(32) for _ in range(8)], "random": [r.random() for _ in range(8)]}
    shuffles = []
    for n in (1, 2, 5, 6, 12, 37):
        x = list(range(n))
        r.shuffle(x)
        shuffles.append({"n": n, "result": x})
    out["shuffles"] = shuffles
    samples = []
    for n, k in ((6, 3), (12, 4), (20, 3), (30, 25), (100, 25), (1000, 5), (5, 5)):
        samples.append({"n": n, "k": k, "result": r.sample(range(n), k)})
    out["samples"] = samples
    return out


def main():
    data = {"python": platform.python_version(), "cases": [case(s) for s in (42, 0, 1234, 2**32 + 7, 123456789012345)]}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
