"""Per-feature mean activation (issue 15), the reference for `analyze --phrases`.

The paper measures each SAE feature on the phrases selected for it. This script computes those
figures independently of LinguaScope's engine: Hugging Face transformers runs the model (eager
attention, float32, each phrase alone), the Python `tokenizers` library tokenizes, and SAELens's
own JumpReLUSAE encodes the residual stream (`blocks.L.hook_resid_post` = the output of decoder
layer L, taken with a forward hook). The inputs are the tiny random Gemma-2 and random JumpReLU SAEs
that LinguaScope's CLI makes deterministically from a seed (the weights only; every figure here is
computed by the libraries above):

    node bin/linguascope.js make-random-model --arch gemma2 --preset tiny --dtype f32 --out M --seed 3
    node bin/linguascope.js make-random-saes --model M --width 256 --out S --seed 5

The script runs those two commands itself into a temporary folder (set LINGUASCOPE_DB there) and
records every weight file's sha256, so the test can tell that it regenerated the same files.

It writes test/fixtures/per-feature/:
- corpus.tsv: 11 segments in en es it hi ml (our own sentences, not UDHR text: the random SAEs'
  thresholds are quantiles of English UDHR pre-activations); one segment has no Malayalam text;
- phrases.json: as `dataset translate` writes it ([{segment, feature, provenance}]), three features
  (two at layer 1, one at layer 2; sources `1-linguascope-res-256`, `2-linguascope-res-256`), chosen
  here as the features most active on their English phrases whose pre-activations stay at least
  `MIN_MARGIN` from the JumpReLU threshold (so float32 rounding cannot flip a token on or off);
  the segment without Malayalam is listed for the first feature (dropped when ml is analysed);
  one segment is listed for no feature;
- expected.json: per reduction (mean, max; BOS excluded), per feature m_f(L), deficit_f(L) and gap_f,
  computed in float64 from the float32 SAE activations, plus versions, seeds, sha256s and margins.

Run from the repository root after `npx electron-vite build`:

    ~/.venvs/ref/bin/python scripts/reference/make_per_feature_fixtures.py
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import safetensors
import sae_lens
import tokenizers
import torch
import transformers
from safetensors.numpy import load_file
from sae_lens import JumpReLUSAE, JumpReLUSAEConfig
from tokenizers import Tokenizer
from transformers import Gemma2ForCausalLM

OUT = Path("test/fixtures/per-feature")
MODEL_SEED, SAE_SEED, WIDTH = 3, 5, 256
LANGS = ["en", "es", "it", "hi", "ml"]
# The registry's tiers for these languages (src/main/data/languages.ts, from the paper).
TIERS = {"en": "reference", "es": "high", "it": "high", "hi": "medium-low", "ml": "medium-low"}
MIN_MARGIN = 2e-3
MODEL_ID = "linguascope-tiny"

# (en, es, it, hi, ml); ml None: the segment lacks Malayalam.
TEXTS = [
    ("The river runs past the old mill before it reaches the sea.", "El río pasa junto al viejo molino antes de llegar al mar.", "Il fiume scorre accanto al vecchio mulino prima di raggiungere il mare.", "नदी समुद्र तक पहुँचने से पहले पुरानी चक्की के पास से बहती है।", "കടലിൽ എത്തുന്നതിനു മുമ്പ് പുഴ പഴയ മില്ലിനരികിലൂടെ ഒഴുകുന്നു."),
    ("Every morning the baker opens his shop at six.", "Cada mañana el panadero abre su tienda a las seis.", "Ogni mattina il fornaio apre il suo negozio alle sei.", "हर सुबह बेकर छह बजे अपनी दुकान खोलता है।", "എല്ലാ ദിവസവും രാവിലെ ആറു മണിക്ക് ബേക്കർ കട തുറക്കുന്നു."),
    ("Children played football in the park until dark.", "Los niños jugaron al fútbol en el parque hasta el anochecer.", "I bambini hanno giocato a calcio nel parco fino al buio.", "बच्चे अंधेरा होने तक पार्क में फुटबॉल खेलते रहे।", "ഇരുട്ടുന്നതുവരെ കുട്ടികൾ പാർക്കിൽ ഫുട്ബോൾ കളിച്ചു."),
    ("A quiet library is a good place to read and think.", "Una biblioteca tranquila es un buen lugar para leer y pensar.", "Una biblioteca tranquilla è un buon posto per leggere e pensare.", "शांत पुस्तकालय पढ़ने और सोचने के लिए अच्छी जगह है।", "ശാന്തമായ ഗ്രന്ഥശാല വായിക്കാനും ചിന്തിക്കാനും നല്ല സ്ഥലമാണ്."),
    ("The train to the coast was late again today.", "El tren a la costa llegó tarde otra vez hoy.", "Il treno per la costa era di nuovo in ritardo oggi.", "तट की ओर जाने वाली ट्रेन आज फिर देर से आई।", "തീരത്തേക്കുള്ള തീവണ്ടി ഇന്നും വൈകി."),
    ("She planted tomatoes and beans in the small garden.", "Ella plantó tomates y judías en el pequeño jardín.", "Lei ha piantato pomodori e fagioli nel piccolo giardino.", "उसने छोटे बगीचे में टमाटर और सेम लगाए।", "അവൾ ചെറിയ തോട്ടത്തിൽ തക്കാളിയും പയറും നട്ടു."),
    ("The museum closes early on Sundays in winter.", "El museo cierra temprano los domingos en invierno.", "Il museo chiude presto la domenica d'inverno.", "सर्दियों में रविवार को संग्रहालय जल्दी बंद हो जाता है।", "ശൈത്യകാലത്ത് ഞായറാഴ്ചകളിൽ മ്യൂസിയം നേരത്തെ അടയ്ക്കും."),
    ("My grandmother writes letters to her friends every week.", "Mi abuela escribe cartas a sus amigas cada semana.", "Mia nonna scrive lettere alle sue amiche ogni settimana.", "मेरी दादी हर हफ्ते अपनी सहेलियों को पत्र लिखती हैं।", "എന്റെ മുത്തശ്ശി എല്ലാ ആഴ്ചയും കൂട്ടുകാർക്ക് കത്തെഴുതുന്നു."),
    ("The bridge was painted bright red last summer.", "El puente fue pintado de rojo brillante el verano pasado.", "Il ponte è stato dipinto di rosso acceso l'estate scorsa.", "पिछली गर्मियों में पुल को चमकीले लाल रंग से रंगा गया।", "കഴിഞ്ഞ വേനലിൽ പാലത്തിന് കടും ചുവപ്പ് നിറം അടിച്ചു."),
    ("We watched the stars from the roof of the house.", "Miramos las estrellas desde el tejado de la casa.", "Abbiamo guardato le stelle dal tetto della casa.", "हमने घर की छत से तारे देखे।", "ഞങ്ങൾ വീടിന്റെ മേൽക്കൂരയിൽ നിന്ന് നക്ഷത്രങ്ങളെ നോക്കി."),
    ("Fresh bread smells wonderful in the early morning.", "El pan recién hecho huele de maravilla por la mañana temprano.", "Il pane fresco ha un profumo meraviglioso al mattino presto.", "सुबह-सुबह ताज़ी रोटी की खुशबू बहुत अच्छी लगती है।", None),
]
# Which texts are selected for which feature group: (layer, text indices). Text 9 is in no group;
# text 10 (no Malayalam) is in the first.
GROUPS = [(1, [0, 1, 2, 10]), (1, [3, 4, 5]), (2, [6, 7, 8])]


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def make_inputs(tmp):
    env = {**os.environ, "LINGUASCOPE_DB": str(tmp / "db.sqlite")}
    model, saes = tmp / "model", tmp / "saes"
    cli = ["node", "bin/linguascope.js"]
    subprocess.run([*cli, "make-random-model", "--arch", "gemma2", "--preset", "tiny", "--dtype", "f32", "--out", str(model), "--seed", str(MODEL_SEED)], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run([*cli, "make-random-saes", "--model", str(model), "--width", str(WIDTH), "--out", str(saes), "--seed", str(SAE_SEED)], check=True, env=env, stdout=subprocess.DEVNULL)
    return model, saes


def load_sae(path):
    """A SAELens JumpReLUSAE holding the file's tensors (apply_b_dec_to_input false, no
    normalisation: what the file's linguascope_sae metadata says)."""
    meta = json.loads(safetensors.safe_open(str(path), "np").metadata()["linguascope_sae"])
    assert meta["architecture"] == "jumprelu" and meta["apply_b_dec_to_input"] is False and meta["normalize_activations"] == "none", meta
    t = load_file(str(path))
    cfg = JumpReLUSAEConfig(d_in=meta["d_in"], d_sae=meta["d_sae"], dtype="float32", device="cpu", apply_b_dec_to_input=False, normalize_activations="none")
    sae = JumpReLUSAE(cfg)
    sae.load_state_dict({k: torch.from_numpy(t[k]) for k in ["W_enc", "W_dec", "b_enc", "b_dec", "threshold"]})
    sae.eval()
    return sae, t


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        model_dir, sae_dir = make_inputs(tmp)
        files = {f"model/{n}": sha256(model_dir / n) for n in ["config.json", "model.safetensors", "tokenizer.json"]}
        layers = sorted({layer for layer, _ in GROUPS})
        sae_files = {L: sae_dir / f"blocks.{L}.hook_resid_post.safetensors" for L in layers}
        files.update({f"saes/{p.name}": sha256(p) for p in sae_files.values()})
        tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        model = Gemma2ForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32, attn_implementation="eager")
        model.eval()
        saes = {L: load_sae(p) for L, p in sae_files.items()}

        captured = {}
        hooks = [model.model.layers[L].register_forward_hook(lambda _m, _i, out, L=L: captured.__setitem__(L, (out[0] if isinstance(out, tuple) else out).detach())) for L in layers]
        # acts[(text, lang)][L]: float32 [tokens, d_sae]; pre: the pre-activations (for margins).
        acts, pre = {}, {}
        with torch.no_grad():
            for ti, row in enumerate(TEXTS):
                for lang, text in zip(LANGS, row):
                    if text is None:
                        continue
                    ids = tok.encode(text).ids
                    assert ids[0] == 2, "the tokenizer adds BOS"
                    model(input_ids=torch.tensor([ids]))
                    for L in layers:
                        x = captured[L][0]
                        sae, t = saes[L]
                        acts[(ti, lang)] = acts.get((ti, lang), {})
                        acts[(ti, lang)][L] = sae.encode(x).numpy()
                        pre.setdefault((ti, lang), {})[L] = (x.numpy().astype(np.float64) @ t["W_enc"].astype(np.float64) + t["b_enc"]) - t["threshold"]
        for h in hooks:
            h.remove()

        def reduce(a, how):
            body = a[1:].astype(np.float64)  # BOS excluded
            return body.mean(axis=0) if how == "mean" else body.max(axis=0)

        # Features: per group the one most active (mean reduction) on its English phrases whose
        # pre-activations keep MIN_MARGIN from the threshold on every token of every language.
        chosen, margins, taken = [], [], set()
        for layer, texts in GROUPS:
            en = np.mean([reduce(acts[(ti, "en")][layer], "mean") for ti in texts], axis=0)
            for f in np.argsort(-en, kind="stable"):
                f = int(f)
                if (layer, f) in taken or en[f] <= 0:
                    continue
                margin = min(float(np.min(np.abs(pre[(ti, lang)][layer][:, f]))) for ti in texts for lang in LANGS if (ti, lang) in pre)
                if margin >= MIN_MARGIN:
                    chosen.append(f)
                    margins.append(margin)
                    taken.add((layer, f))
                    break
            else:
                raise SystemExit(f"no feature at layer {layer} keeps a margin of {MIN_MARGIN}")

        segment = {}
        for (layer, texts), f in zip(GROUPS, chosen):
            for n, ti in enumerate(texts, 1):
                segment[ti] = f"f{f}.{n}"
        segment[9] = "extra.1"

        def provenance(layer, f, n):
            return {"producer": "linguascope", "kind": "neuronpedia", "modelId": MODEL_ID, "sourceId": f"{layer}-linguascope-res-{WIDTH}", "feature": f, "file": "activations/batch-0.jsonl.gz", "line": n, "record": n - 1, "recordId": None, "binMin": -1, "peak": 3, "value": 1.0, "window": [0, 7], "maximum": 1.0, "maximumSource": "maxActApprox", "threshold": 0.8, "thresholdRule": "record-max"}

        phrases = [{"segment": segment[ti], "feature": f, "provenance": provenance(layer, f, n)} for (layer, texts), f in zip(GROUPS, chosen) for n, ti in enumerate(texts, 1)]

        figures = {}
        for how in ["mean", "max"]:
            out = []
            for (layer, texts), f in zip(GROUPS, chosen):
                used = [ti for ti in texts if all((ti, lang) in acts for lang in LANGS)]
                m = {lang: float(np.mean([reduce(acts[(ti, lang)][layer], how)[f] for ti in used])) for lang in LANGS}
                high = np.mean([m[l] for l in LANGS if TIERS[l] == "high"])
                low = np.mean([m[l] for l in LANGS if TIERS[l] == "medium-low"])
                out.append({
                    "layer": layer,
                    "feature": f,
                    "source": f"{MODEL_ID}/{layer}-linguascope-res-{WIDTH}",
                    "segments": len(used),
                    "segments_dropped": len(texts) - len(used),
                    "mean_activation": m,
                    "deficit_vs_en": {lang: (100 * (m["en"] - m[lang]) / m["en"] if m["en"] != 0 else None) for lang in LANGS},
                    "gap_percent": float(100 * (high - low) / high) if high != 0 else None,
                })
            figures[how] = out

    OUT.mkdir(parents=True, exist_ok=True)
    lines = ["segment\tlanguage\ttext"]
    for ti, row in enumerate(TEXTS):
        for lang, text in zip(LANGS, row):
            if text is not None:
                lines.append(f"{segment[ti]}\t{lang}\t{text}")
    (OUT / "corpus.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (OUT / "phrases.json").write_text(json.dumps(phrases, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = {
        "description": "per-feature m_f(L), deficit_f(L), gap_f on each feature's own segments (BOS excluded), HF transformers + SAELens JumpReLUSAE; see scripts/reference/make_per_feature_fixtures.py",
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__, "tokenizers": tokenizers.__version__, "sae_lens": sae_lens.__version__, "safetensors": safetensors.__version__, "numpy": np.__version__},
        "inputs": {"make_random_model": ["--arch", "gemma2", "--preset", "tiny", "--dtype", "f32", "--seed", str(MODEL_SEED)], "make_random_saes": ["--width", str(WIDTH), "--seed", str(SAE_SEED)], "sha256": files},
        "languages": LANGS,
        "tiers": TIERS,
        "min_margin": min(margins),
        "figures": figures,
    }
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")
    print(f"features {chosen}, margins {[round(m, 4) for m in margins]}")
    for how in figures:
        for f in figures[how]:
            print(how, f["layer"], f["feature"], {k: round(v, 5) for k, v in f["mean_activation"].items()}, f["gap_percent"])


if __name__ == "__main__":
    main()
