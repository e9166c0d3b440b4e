"""Generate the synthetic monthly sell-in history shipped with the demand_forecasting project.

The output is deterministic: the same seed and arguments always produce a byte-identical CSV,
so the shipped file ``data/01_raw/sell_in_history/1/sell_in.csv`` can be regenerated with::

    python scripts/make_sell_in_data.py

Every country x SKU series carries a level, a trend, a yearly seasonality, multiplicative
noise and occasional promotions (a price cut with an uplift, followed by a small dip).
A few realistic defects are injected on purpose so that the ``data_processing`` pipeline has
something to clean: missing months, blank and negative unit counts, duplicated rows and
badly formatted country codes.

Columns: ``country, sku, month (YYYY-MM), units, price, promo (0/1)``.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

SEED = 20240601
COUNTRIES: dict[str, float] = {"DE": 1.6, "FR": 1.3, "IT": 1.0, "ES": 0.9, "PL": 0.6}
N_SKUS = 20
START_YEAR = 2022
START_MONTH = 1
N_MONTHS = 48
PROMO_PROBABILITY = 0.08

DEFAULT_OUTPUT = (
    Path(__file__).resolve().parents[1]
    / "data"
    / "01_raw"
    / "sell_in_history"
    / "1"
    / "sell_in.csv"
)

Row = list[str | int | float | None]


def month_labels(start_year: int, start_month: int, n_months: int) -> list[str]:
    """Return ``n_months`` consecutive month labels ``YYYY-MM`` from the start month."""
    labels = []
    for offset in range(n_months):
        index = start_year * 12 + (start_month - 1) + offset
        labels.append(f"{index // 12:04d}-{index % 12 + 1:02d}")
    return labels


def simulate_rows(rng: np.random.Generator, months: list[str]) -> list[Row]:
    """Simulate clean sell-in rows ``[country, sku, month, units, price, promo]``."""
    n_months = len(months)
    month_of_year = np.array([int(label[5:]) for label in months])
    t = np.arange(n_months)
    rows: list[Row] = []
    for sku_index in range(N_SKUS):
        sku = f"SKU-{sku_index + 1:03d}"
        base_level = float(rng.lognormal(mean=np.log(250.0), sigma=0.7))
        base_price = float(rng.uniform(2.5, 25.0))
        amplitude = float(rng.uniform(0.05, 0.35))
        peak_month = int(rng.integers(1, 13))
        sku_trend = float(rng.uniform(-0.006, 0.014))
        for country, country_factor in COUNTRIES.items():
            level = base_level * country_factor * float(rng.lognormal(0.0, 0.25))
            trend = sku_trend + float(rng.normal(0.0, 0.003))
            season = 1.0 + amplitude * np.cos(2.0 * np.pi * (month_of_year - peak_month) / 12.0)
            promo = rng.random(n_months) < PROMO_PROBABILITY
            uplift = np.where(promo, rng.uniform(1.2, 1.6, n_months), 1.0)
            post_promo_dip = np.where(np.roll(promo, 1) & ~promo, 0.9, 1.0)
            post_promo_dip[0] = 1.0
            noise = rng.lognormal(0.0, 0.08, n_months)
            expected = level * (1.0 + trend) ** t * season * uplift * post_promo_dip * noise
            units = rng.poisson(expected)
            inflation = (1.0 + 0.002) ** t
            price = base_price * inflation * np.where(promo, 0.85, 1.0)
            price = price * rng.normal(1.0, 0.01, n_months)
            for i, month in enumerate(months):
                rows.append(
                    [country, sku, month, int(units[i]), round(float(price[i]), 2), int(promo[i])]
                )
    return rows


def inject_defects(rng: np.random.Generator, rows: list[Row]) -> list[Row]:
    """Add the data-quality defects the cleaning step is expected to repair."""
    n_rows = len(rows)
    picks = rng.permutation(n_rows)
    missing = set(picks[:24].tolist())
    blank_units = set(picks[24:34].tolist())
    negative_units = set(picks[34:40].tolist())
    duplicated = set(picks[40:52].tolist())
    bad_country = set(picks[52:67].tolist())

    result: list[Row] = []
    for index, row in enumerate(rows):
        if index in missing:
            continue
        row = list(row)
        if index in blank_units:
            row[3] = None
        elif index in negative_units:
            row[3] = -int(rng.integers(1, 20))
        if index in bad_country:
            row[0] = f" {str(row[0]).lower()} "
        result.append(row)
        if index in duplicated:
            result.append(list(row))
    return result


def format_row(row: Row) -> list[str]:
    """Format one row with a fixed textual representation (stable bytes)."""
    country, sku, month, units, price, promo = row
    return [
        str(country),
        str(sku),
        str(month),
        "" if units is None else str(int(units)),
        f"{float(price):.2f}",
        str(int(promo)),
    ]


def make_sell_in_data(output: Path, seed: int = SEED) -> int:
    """Write the synthetic sell-in CSV to ``output`` and return the number of data rows."""
    rng = np.random.default_rng(seed)
    months = month_labels(START_YEAR, START_MONTH, N_MONTHS)
    rows = inject_defects(rng, simulate_rows(rng, months))
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["country", "sku", "month", "units", "price", "promo"])
        writer.writerows(format_row(row) for row in rows)
    return len(rows)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="CSV file to write")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed")
    args = parser.parse_args()
    n_rows = make_sell_in_data(args.output, args.seed)
    print(f"wrote {n_rows} rows to {args.output}")


if __name__ == "__main__":
    main()
