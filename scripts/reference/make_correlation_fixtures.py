"""Pearson r and Spearman rho by scipy.stats, the reference for src/main/analysis/correlation.ts.

Writes test/fixtures/correlation/cases.json: each case holds its inputs (x: a measure per language,
y: an accuracy per language) and scipy's pearsonr / spearmanr statistics (null where scipy gives
NaN, e.g. a constant input), plus the average ranks scipy.stats.rankdata assigns (ties share the
mean of their positions). Run from the repository root:

    ~/.venvs/ref/bin/python scripts/reference/make_correlation_fixtures.py
"""
import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

OUT = Path("test/fixtures/correlation/cases.json")


def stat(value):
    v = float(value)
    return None if math.isnan(v) else v


def case(name, x, y, note):
    x = [float(v) for v in x]
    y = [float(v) for v in y]
    with warnings.catch_warnings():
        # scipy warns on a constant input and returns NaN: that NaN is the fixture's null.
        warnings.simplefilter("ignore")
        pearson = stats.pearsonr(x, y).statistic
        spearman = stats.spearmanr(x, y).statistic
    return {
        "name": name,
        "note": note,
        "x": x,
        "y": y,
        "pearson": stat(pearson),
        "spearman": stat(spearman),
        "rank_x": [float(r) for r in stats.rankdata(x, method="average")],
        "rank_y": [float(r) for r in stats.rankdata(y, method="average")],
    }


def main():
    rng = np.random.default_rng(20261204)
    ten_x = rng.normal(10.0, 3.0, 10)
    ten_y = 0.4 - 0.01 * ten_x + rng.normal(0, 0.03, 10)
    cases = [
        case("ten-languages", ten_x, ten_y, "ten languages: a deficit-like measure against accuracy, negative relation plus noise"),
        case("ties", [3, 1, 4, 1, 5, 9, 2, 6, 5, 3], [0.25, 0.25, 0.3, 0.2, 0.3, 0.5, 0.25, 0.4, 0.35, 0.3], "ties in both inputs: average ranks"),
        case("monotone-nonlinear", [1, 2, 3, 4, 5, 6, 7], [-math.exp(v) for v in [1, 2, 3, 4, 5, 6, 7]], "Spearman exactly -1, Pearson not"),
        case("large-offset", 1e6 + rng.normal(0, 1e-3, 8), rng.normal(0.5, 0.1, 8), "values near 1e6 with a spread of 1e-3: a one-pass formula loses digits here"),
        case("n4", [0.1, 0.4, 0.2, 0.9], [0.3, 0.35, 0.2, 0.5], "four languages, the smallest n with a bootstrap interval"),
        case("n3", [1.0, 2.0, 4.0], [0.2, 0.3, 0.25], "three languages: r and rho, no interval"),
        case("constant-x", [2.5, 2.5, 2.5, 2.5, 2.5], [0.1, 0.2, 0.3, 0.4, 0.5], "a constant measure: r undefined (scipy NaN)"),
        case("constant-y", [1, 2, 3, 4, 5], [0.3, 0.3, 0.3, 0.3, 0.3], "a constant accuracy: r undefined (scipy NaN)"),
    ]
    doc = {
        "generator": "scripts/reference/make_correlation_fixtures.py",
        "python": sys.version.split()[0],
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "cases": cases,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
