"""The model folder for `npm run bench -- translate`: a full-size random opus-mt.

argv: output folder. Builds MarianMTModel with the architecture of Helsinki-NLP/opus-mt-en-hi
(d_model 512, 6 encoder + 6 decoder layers, 8 heads, ffn 2048, SiLU, max_position_embeddings 512,
scale_embedding) and a 58101-token vocabulary (opus-mt-en-de's size; the en-* models are
58-62k), random weights (transformers' own initialisation, seed 15), and saves config.json,
generation_config.json (the opus-mt one: num_beams 4, max_length 512, bad_words_ids [[pad]],
forced EOS, renormalize_logits) and model.safetensors. No tokenizer files: the bench feeds token
ids to both sides, since what it times is the engine, not SentencePiece.

Random weights make the output length arbitrary, so final_logits_bias[eos] is set to -1e4: EOS is
never chosen before max_length, and both sides decode exactly max_new_tokens tokens (the last one
the forced EOS). The folder also carries linguascope_bench_seed in config.json so the bench knows
it is its own.
"""
import json
import os
import sys

import torch
import transformers
from transformers import GenerationConfig, MarianConfig, MarianMTModel

VOCAB = 58101
PAD = VOCAB - 1  # opus-mt puts <pad> last
EOS = 0
SEED = 15
EOS_BIAS = -1e4


def main() -> None:
    out = sys.argv[1]
    config = MarianConfig(
        vocab_size=VOCAB, d_model=512, encoder_layers=6, decoder_layers=6,
        encoder_attention_heads=8, decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048,
        max_position_embeddings=512, scale_embedding=True, activation_function="swish",
        pad_token_id=PAD, decoder_start_token_id=PAD, eos_token_id=EOS, forced_eos_token_id=EOS,
        dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, share_encoder_decoder_embeddings=True,
    )
    torch.manual_seed(SEED)
    model = MarianMTModel(config).eval()
    with torch.no_grad():
        model.final_logits_bias.zero_()
        model.final_logits_bias[0, EOS] = EOS_BIAS
    os.makedirs(out, exist_ok=True)
    model.generation_config = GenerationConfig(
        bad_words_ids=[[PAD]], bos_token_id=0, decoder_start_token_id=PAD, eos_token_id=EOS,
        forced_eos_token_id=EOS, max_length=512, num_beams=4, pad_token_id=PAD, renormalize_logits=True,
    )
    model.save_pretrained(out, safe_serialization=True)
    path = os.path.join(out, "config.json")
    with open(path, encoding="utf-8") as f:
        raw = json.load(f)
    raw["linguascope_bench_seed"] = SEED
    with open(path, "w", encoding="utf-8") as f:
        json.dump(raw, f, indent=2)
    print(json.dumps({"folder": out, "vocab_size": VOCAB, "seed": SEED, "torch": torch.__version__, "transformers": transformers.__version__}))


if __name__ == "__main__":
    main()
