"""Per-column int8 weight quantization (issue 17, the "fast" precision), the reference for
src/main/engine/quantize.ts, computed in numpy from the stored weights.

For a Hugging Face Linear weight W (N outputs, K inputs), float32:
    s[n]    = max_k |W[n, k]| / 127         (float32; an all-zero column gets s = 1)
    Wq[k,n] = clip(rint(W[n, k] / s[n]), -127, 127)  as int8, stored (K, N)
numpy's rint rounds half to even; the division is float32 / float32.

Input: test/fixtures/models/gemma2/model.safetensors (the tiny random Gemma-2 fixture).
Output: test/fixtures/quant/gemma2-int8.safetensors with, per quantized weight NAME,
NAME.int8 (K, N) int8 and NAME.scale (N,) float32, for a few projections of different shapes;
plus a hand-made weight `edge` with an all-zero column and exact half-way quotients.

Run from the repository root:  /root/.venvs/ref/bin/python scripts/reference/make_quant_fixtures.py
"""
import numpy as np
from safetensors.numpy import load_file, save_file

NAMES = [
    "model.layers.0.self_attn.q_proj.weight",
    "model.layers.0.self_attn.k_proj.weight",
    "model.layers.1.mlp.down_proj.weight",
    "model.layers.3.mlp.gate_proj.weight",
]


def quantize(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = w.astype(np.float32)
    scale = (np.max(np.abs(w), axis=1) / np.float32(127)).astype(np.float32)
    scale = np.where(scale == 0, np.float32(1), scale).astype(np.float32)
    q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
    return np.ascontiguousarray(q.T), scale


def main() -> None:
    weights = load_file("test/fixtures/models/gemma2/model.safetensors")
    out = {}
    for name in NAMES:
        q, s = quantize(weights[name])
        out[f"{name}.int8"] = q
        out[f"{name}.scale"] = s
    # 3 outputs x 4 inputs: a zero row (column of B), ties at ±0.5 steps, a negative maximum.
    edge = np.array([[0, 0, 0, 0], [127, 0.5, 1.5, -2.5], [-254, 1, 3, 127]], dtype=np.float32)
    out["edge"] = edge
    out["edge.int8"], out["edge.scale"] = quantize(edge)
    save_file(out, "test/fixtures/quant/gemma2-int8.safetensors", metadata={"numpy": np.__version__})
    print({k: (v.dtype.name, v.shape) for k, v in out.items()})


if __name__ == "__main__":
    main()
