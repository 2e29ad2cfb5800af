"""Reference fixtures for the Marian (opus-mt) encoder-decoder built in our engine.

Builds a tiny random MarianMTModel with Hugging Face transformers, saves it with safetensors under
test/fixtures/marian/generate-model/ (plus generation_config.json), writes the same weights in the
layout of a downloaded opus-mt pytorch_model.bin (tied copies and the stored sinusoidal positions)
under test/fixtures/marian/generate-model-opus-layout/, and records in
test/fixtures/marian/generate-expected.json:
  - encoder last hidden states for a right-padded batch,
  - decoder logits for a teacher-forced target batch (decoder_input_ids start at the pad token),
  - greedy generate() outputs, and beam (3 and 4 beams; length_penalty 0.6, 1.0, 1.4;
    early_stopping False, True and "never"; with and without forced EOS and renormalize_logits) outputs with sequences_scores, for ten id sequences one by one and as one
    padded batch,
  - the folder's own generation_config (num_beams 4, renormalize_logits, bad_words_ids [[pad]]).

Token ids only: no tokenizer is involved. Run from the repository root:
  ~/.venvs/ref/bin/python scripts/reference/make_marian_generate_fixtures.py
"""
import json
import os
import shutil
import sys

import torch
import transformers
import safetensors
from safetensors.torch import save_file
from transformers import GenerationConfig, MarianConfig, MarianMTModel

ROOT = os.path.join("test", "fixtures", "marian")
MODEL_DIR = os.path.join(ROOT, "generate-model")
OPUS_DIR = os.path.join(ROOT, "generate-model-opus-layout")
EXPECTED = os.path.join(ROOT, "generate-expected.json")

VOCAB = 300
PAD = VOCAB - 1  # opus-mt puts the pad token last
EOS = 0
MAX_LENGTH = 14
EOS_BIAS = 1.5


def build_model():
    config = MarianConfig(
        vocab_size=VOCAB, d_model=16, encoder_layers=2, decoder_layers=2,
        encoder_attention_heads=2, decoder_attention_heads=4, encoder_ffn_dim=32, decoder_ffn_dim=24,
        max_position_embeddings=64, scale_embedding=True, activation_function="swish",
        pad_token_id=PAD, decoder_start_token_id=PAD, eos_token_id=EOS, forced_eos_token_id=EOS,
        dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
    )
    config._attn_implementation = "eager"
    torch.manual_seed(1234)
    model = MarianMTModel(config).eval()
    # Random weights large enough that the next-token distribution is peaked and depends on the
    # source and the step (beams differ); a final_logits_bias raises EOS so that some outputs end
    # before max_length and others are cut there (forced EOS).
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "embed_positions" in name:
                continue
            if name.endswith("layer_norm.weight"):
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
            elif name == "model.shared.weight":
                p.copy_(0.3 * torch.randn_like(p))
            else:
                p.copy_(0.2 * torch.randn_like(p))
        bias = 0.5 * torch.randn(1, VOCAB)
        bias[0, EOS] = EOS_BIAS
        model.final_logits_bias.copy_(bias)
    return model


def sources():
    g = torch.Generator().manual_seed(7)
    lengths = [1, 3, 5, 7, 2, 9, 12, 4, 6, 10]
    out = []
    for n in lengths:
        ids = torch.randint(1, PAD, (n,), generator=g).tolist()
        out.append(ids + [EOS])  # as MarianTokenizer appends </s>
    return out


def pad_batch(seqs):
    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), PAD, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(s)
        mask[i, : len(s)] = 1
    return ids, mask


def generation_config():
    # The shape of an opus-mt generation_config.json (bad_words_ids bans the pad token;
    # renormalize_logits re-normalises after the processors), with a short max_length.
    return GenerationConfig(
        bad_words_ids=[[PAD]], bos_token_id=EOS, decoder_start_token_id=PAD, eos_token_id=EOS,
        forced_eos_token_id=EOS, max_length=MAX_LENGTH, num_beams=4, pad_token_id=PAD,
        renormalize_logits=True,
    )


def run_generate(model, seqs, **kwargs):
    ids, mask = pad_batch(seqs)
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, return_dict_in_generate=True,
                             output_scores=True, **kwargs)
    result = {"sequences": out.sequences.tolist()}
    if getattr(out, "sequences_scores", None) is not None:
        result["sequences_scores"] = out.sequences_scores.tolist()
    return result


def main():
    model = build_model()
    gen = generation_config()
    model.generation_config = gen
    shutil.rmtree(MODEL_DIR, ignore_errors=True)
    model.save_pretrained(MODEL_DIR, safe_serialization=True)
    gen.save_pretrained(MODEL_DIR)

    # The layout of a downloaded opus-mt checkpoint: every tied copy and the positions stored.
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    shared = state["model.shared.weight"]
    for alias in ["model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight", "lm_head.weight"]:
        state[alias] = shared.clone()
    state["model.encoder.embed_positions.weight"] = model.model.encoder.embed_positions.weight.detach().clone()
    state["model.decoder.embed_positions.weight"] = model.model.decoder.embed_positions.weight.detach().clone()
    shutil.rmtree(OPUS_DIR, ignore_errors=True)
    os.makedirs(OPUS_DIR)
    save_file(state, os.path.join(OPUS_DIR, "model.safetensors"), metadata={"format": "pt"})
    shutil.copy(os.path.join(MODEL_DIR, "config.json"), OPUS_DIR)
    shutil.copy(os.path.join(MODEL_DIR, "generation_config.json"), OPUS_DIR)

    # Reload from disk so the fixture describes the saved files, not the in-memory model.
    model = MarianMTModel.from_pretrained(MODEL_DIR, attn_implementation="eager").eval()
    seqs = sources()
    ids, mask = pad_batch(seqs)
    with torch.no_grad():
        enc = model.get_encoder()(input_ids=ids, attention_mask=mask).last_hidden_state
        targets = [s[::-1][: 2 + i % 5] for i, s in enumerate(seqs)]  # any ids; lengths vary
        width = max(len(t) for t in targets)
        dec_ids = torch.full((len(seqs), width), PAD, dtype=torch.long)
        for i, t in enumerate(targets):
            dec_ids[i, 1 : 1 + min(len(t), width - 1)] = torch.tensor(t[: width - 1])
        logits = model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec_ids).logits

    base = dict(do_sample=False, max_length=MAX_LENGTH)
    settings = {
        "greedy": dict(num_beams=1),
        "beam4_lp1.0": dict(num_beams=4, length_penalty=1.0, early_stopping=False),
        "beam4_lp0.6": dict(num_beams=4, length_penalty=0.6, early_stopping=False),
        "beam4_lp0.6_early": dict(num_beams=4, length_penalty=0.6, early_stopping=True),
        "beam4_lp1.4_early": dict(num_beams=4, length_penalty=1.4, early_stopping=True),
        "beam3_lp1.4_never": dict(num_beams=3, length_penalty=1.4, early_stopping="never"),
        # Without forced EOS a hypothesis can be cut at max_length without an EOS; without
        # renormalize_logits the banned pad token's probability is not redistributed.
        "greedy_no_forced_eos": dict(num_beams=1, forced_eos_token_id=None),
        "beam4_no_forced_eos": dict(num_beams=4, length_penalty=1.0, early_stopping=False, forced_eos_token_id=None),
        "beam4_not_renormalized": dict(num_beams=4, length_penalty=1.0, early_stopping=False, renormalize_logits=False),
        "folder_config": dict(),  # the folder's generation_config.json as it is
    }
    generate_cases = []
    for name, extra in settings.items():
        kwargs = {**base, **extra} if name != "folder_config" else {}
        single = [run_generate(model, [s], **kwargs) for s in seqs]
        batch = run_generate(model, seqs, **kwargs)
        generate_cases.append({
            "name": name,
            "settings": extra if name != "folder_config" else "generation_config.json",
            "single": [{"sequence": r["sequences"][0], "score": r.get("sequences_scores", [None])[0]} for r in single],
            "batch": {"sequences": batch["sequences"], "scores": batch.get("sequences_scores")},
        })

    lengths = [len(r["sequence"]) for r in generate_cases[0]["single"]]
    ended = sum(1 for r in generate_cases[0]["single"] if r["sequence"][-1] == EOS and len(r["sequence"]) < MAX_LENGTH)
    print("greedy lengths", lengths, "ended by eos before max_length:", ended, file=sys.stderr)

    expected = {
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "safetensors": safetensors.__version__},
        "pad": PAD, "eos": EOS, "max_length": MAX_LENGTH,
        "sources": seqs,
        "encoder": {"input_ids": ids.tolist(), "attention_mask": mask.tolist(), "shape": list(enc.shape),
                    "last_hidden_state": [round(x, 7) for x in enc.flatten().tolist()]},
        "decoder": {"decoder_input_ids": dec_ids.tolist(), "shape": list(logits.shape),
                    "logits": [round(x, 6) for x in logits.flatten().tolist()]},
        "generate": generate_cases,
    }
    with open(EXPECTED, "w") as f:
        json.dump(expected, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
