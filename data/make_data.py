"""Write the labs' small synthetic data sets and their metadata (seeded, reproducible).

Every data set here is SYNTHETIC: drawn from a known model whose true
parameters are recorded in `datasets.json`, so the labs can compare posteriors
with the truth. Run from the repository root:

    python data/make_data.py

It rewrites `data/*.csv` and `data/datasets.json` (with each file's SHA-256,
which the loaders check). The same seed gives byte-identical files.
"""

import hashlib
import json
import pathlib

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
SEED = 109


def advertising(rng):
    """TV advertising budget (thousand dollars) vs sales (thousand units), 200 markets.

    Shaped like the ISLR Advertising data (whose OLS fit is sales = 7.03 + 0.0475 TV,
    residual sd 3.26), drawn from exactly that model.
    """
    truth = {"beta0": 7.03, "beta1": 0.0475, "sigma": 3.26}
    tv = np.round(rng.uniform(0.7, 296.4, size=200), 1)
    sales = truth["beta0"] + truth["beta1"] * tv + rng.normal(0.0, truth["sigma"], size=tv.size)
    description = (
        "Synthetic TV-advertising vs sales data (200 markets) drawn from "
        "sales = beta0 + beta1 * TV + N(0, sigma^2), the OLS fit of the ISLR Advertising data."
    )
    return {"TV": tv, "sales": np.round(sales, 2)}, truth, description


def sin_gap(rng):
    """About 20 points for the 5-weight sin network, with a gap around x = 0.

    y = w21 * sin(w11 * x) + w22 * sin(w12 * x) + b1 + N(0, sigma^2), x in +-[0.2, 0.5].
    """
    truth = {"w11": 2.0, "w12": 6.0, "w21": 1.0, "w22": 0.4, "b1": 0.2, "sigma": 0.1}
    half = rng.uniform(0.2, 0.5, size=10)
    x = np.sort(np.concatenate([-rng.uniform(0.2, 0.5, size=10), half]))
    mean = (truth["w21"] * np.sin(truth["w11"] * x) + truth["w22"] * np.sin(truth["w12"] * x)
            + truth["b1"])
    y = mean + rng.normal(0.0, truth["sigma"], size=x.size)
    description = (
        "Synthetic data for the sin network x -> 2 sin hidden units -> linear output: "
        "20 points, 10 in [-0.5, -0.2] and 10 in [0.2, 0.5], none near 0; "
        "y = w21 sin(w11 x) + w22 sin(w12 x) + b1 + N(0, sigma^2)."
    )
    return {"x": np.round(x, 4), "y": np.round(y, 4)}, truth, description


def heteroscedastic(rng):
    """300 points, x in [-1, -0.25] U [0.25, 1], noise sd growing with x.

    y = sin(3 x) + 0.3 x + N(0, s(x)^2), s(x) = 0.1 + 0.1 (x + 1): positive over the whole
    plotted range x in [-1.5, 1.5] (0.05 at x = -1.5, 0.35 at x = 1.5).
    """
    truth = {"amplitude": 1.0, "frequency": 3.0, "slope": 0.3, "noise_base": 0.1,
             "noise_slope": 0.1}
    x = rng.uniform(0.25, 1.0, size=300) * rng.choice([-1.0, 1.0], size=300)
    noise_sd = truth["noise_base"] + truth["noise_slope"] * (x + 1.0)
    y = np.sin(3.0 * x) + 0.3 * x + rng.normal(0.0, 1.0, size=x.size) * noise_sd
    description = (
        "Synthetic heteroscedastic 1-D regression: 300 points with x in [-1, -0.25] U [0.25, 1] "
        "(a gap around 0), y = sin(3x) + 0.3x + N(0, s(x)^2), s(x) = 0.1 + 0.1 (x + 1), positive for x > -2."
    )
    return {"x": np.round(x, 4), "y": np.round(y, 4)}, truth, description


MAKERS = {"advertising": advertising, "sin_gap": sin_gap, "heteroscedastic": heteroscedastic}


def main():
    metadata = {}
    for index, (name, maker) in enumerate(MAKERS.items()):
        columns, truth, description = maker(np.random.default_rng([SEED, index]))
        path = HERE / f"{name}.csv"
        header = ",".join(columns)
        rows = zip(*columns.values())
        text = header + "\n" + "\n".join(",".join(f"{v:g}" for v in row) for row in rows) + "\n"
        path.write_text(text, encoding="utf-8")
        metadata[name] = {
            "file": path.name,
            "columns": list(columns),
            "description": description,
            "synthetic": True,
            "truth": truth,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
        }
    (HERE / "datasets.json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {', '.join(metadata)} to {HERE}")


if __name__ == "__main__":
    main()
