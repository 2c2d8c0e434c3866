"""Calibration (校准): how well the inspectors agree, and who drifts.

Pure. Several inspectors score the same conversations blind; a :class:`RatingSheet` holds
one row per rater and one column per unit (a conversation, or one scorecard item of one),
``None`` where a rater did not score a unit.

- Agreement is Krippendorff's α, computed by the ``krippendorff`` package (not by us), at
  the level of measurement the scores have: nominal (pass / fail, categories), ordinal
  (1-5 grades), interval or ratio (points).
- Drift: for every unit a rater scored along with at least one other rater, the rater's
  score minus the consensus, the median of all the scores the unit got (a median, so one
  outlying inspector does not drag the consensus and make everyone else look off); a
  rater's drift is the mean of those deviations. Below zero: stricter than the others;
  above: more lenient. It is only defined for numeric scores (ordinal, interval, ratio).

:func:`parse_sheet` reads the calibration spreadsheet as CSV text (``rater`` header, one
column per unit, an empty cell where a rater did not score); every problem raises
:class:`SheetError` naming it.
"""

from __future__ import annotations

import csv
import enum
import io
import math
import statistics
from dataclasses import dataclass

import krippendorff
import numpy as np


class Level(enum.StrEnum):
    NOMINAL = "nominal"
    ORDINAL = "ordinal"
    INTERVAL = "interval"
    RATIO = "ratio"


class SheetError(ValueError):
    """A calibration sheet that cannot be used; the message names the problem."""


Value = float | str


@dataclass(frozen=True)
class RatingSheet:
    raters: tuple[str, ...]
    units: tuple[str, ...]
    values: tuple[tuple[Value | None, ...], ...]
    """``values[r][u]``: rater r's score of unit u, ``None`` when not scored."""

    def __post_init__(self) -> None:
        if len(self.values) != len(self.raters):
            raise SheetError(f"{len(self.raters)} raters but {len(self.values)} rows")
        for rater, row in zip(self.raters, self.values, strict=True):
            if len(row) != len(self.units):
                raise SheetError(f"rater {rater!r}: {len(row)} values for {len(self.units)} units")

    @property
    def pairable(self) -> int:
        """Values in units scored by at least two raters (the ones α can use)."""
        total = 0
        for u in range(len(self.units)):
            scored = sum(1 for row in self.values if row[u] is not None)
            if scored >= 2:
                total += scored
        return total


@dataclass(frozen=True)
class Agreement:
    alpha: float
    level: Level
    raters: int
    units: int
    pairable: int

    def to_json(self) -> dict[str, object]:
        return {
            "alpha": self.alpha,
            "level": self.level.value,
            "raters": self.raters,
            "units": self.units,
            "pairable": self.pairable,
        }


class Verdict(enum.StrEnum):
    TOO_STRICT = "too_strict"
    IN_LINE = "in_line"
    TOO_LENIENT = "too_lenient"


@dataclass(frozen=True)
class Drift:
    rater: str
    mean_deviation: float
    """Mean of (own score − the unit's median score) over the shared units."""
    units: int
    """Units the rater scored along with at least one other rater."""
    verdict: Verdict

    def to_json(self) -> dict[str, object]:
        return {
            "rater": self.rater,
            "mean_deviation": self.mean_deviation,
            "units": self.units,
            "verdict": self.verdict.value,
        }


def _to_number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_sheet(text: str, level: Level) -> RatingSheet:
    """The calibration CSV: header ``rater,UNIT,UNIT…``, one row per rater, an empty cell
    where the rater did not score the unit. Values must be numbers except at the nominal
    level, where labels ("pass", "fail") are categories."""
    rows = [row for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if any(row)]
    if not rows:
        raise SheetError("empty sheet: expected a header row `rater,UNIT,...`")
    header = [cell.strip() for cell in rows[0]]
    if header[0].lower() != "rater":
        raise SheetError(f"the first header cell must be `rater`, got {header[0]!r}")
    units = tuple(header[1:])
    if not units:
        raise SheetError("no unit columns after `rater`")
    if any(not unit for unit in units):
        raise SheetError(f"header column {header.index('') + 1} has no unit name")
    if len(set(units)) != len(units):
        raise SheetError("two unit columns have the same name")
    raters: list[str] = []
    values: list[tuple[Value | None, ...]] = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise SheetError(f"row {line} has {len(row)} cells, the header has {len(header)}")
        rater = row[0].strip()
        if not rater:
            raise SheetError(f"row {line} has no rater name")
        if rater in raters:
            raise SheetError(f"rater {rater!r} appears twice")
        cells: list[Value | None] = []
        for unit, raw in zip(units, row[1:], strict=True):
            cell = raw.strip()
            if not cell:
                cells.append(None)
                continue
            number = _to_number(cell)
            if number is None and level is not Level.NOMINAL:
                raise SheetError(
                    f"row {line} ({rater}), unit {unit!r}: {cell!r} is not a number "
                    f"(the {level.value} level needs numbers)"
                )
            cells.append(number if number is not None else cell)
        raters.append(rater)
        values.append(tuple(cells))
    if len(raters) < 2:
        raise SheetError(f"α needs at least 2 raters, the sheet has {len(raters)}")
    if level is Level.RATIO and any(isinstance(v, float) and v < 0 for row in values for v in row):
        raise SheetError("the ratio level needs values >= 0")
    return RatingSheet(tuple(raters), units, tuple(values))


def _matrix(sheet: RatingSheet) -> np.ndarray[tuple[int, int], np.dtype[np.float64]]:
    """Raters × units as floats, NaN where missing; nominal labels coded as category ids."""
    labels = sorted(
        {v for row in sheet.values for v in row if isinstance(v, str)},
    )
    codes: dict[Value, float] = {}
    numbers = sorted({v for row in sheet.values for v in row if isinstance(v, float)})
    # Numbers keep their value; text labels get ids after the largest number (nominal only).
    start = (max(numbers) + 1) if numbers else 0.0
    for i, label in enumerate(labels):
        codes[label] = start + i
    matrix = np.full((len(sheet.raters), len(sheet.units)), np.nan, dtype=np.float64)
    for r, row in enumerate(sheet.values):
        for u, value in enumerate(row):
            if value is None:
                continue
            matrix[r, u] = codes[value] if isinstance(value, str) else value
    return matrix


def agreement(sheet: RatingSheet, level: Level) -> Agreement:
    """Krippendorff's α of the sheet at ``level``. Raises :class:`SheetError` when α is not
    defined: no unit scored by two raters, or every pairable value the same."""
    pairable = sheet.pairable
    if pairable == 0:
        raise SheetError("no unit was scored by at least two raters: α is not defined")
    matrix = _matrix(sheet)
    pairable_values = [
        matrix[r, u]
        for u in range(matrix.shape[1])
        if np.count_nonzero(~np.isnan(matrix[:, u])) >= 2
        for r in range(matrix.shape[0])
        if not np.isnan(matrix[r, u])
    ]
    if len(set(pairable_values)) < 2:
        raise SheetError("every pairable value is the same: α is not defined (no variation)")
    alpha = float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level.value))
    return Agreement(alpha, level, len(sheet.raters), len(sheet.units), pairable)


def drift(sheet: RatingSheet, *, tolerance: float | None = None) -> list[Drift]:
    """Each rater's mean deviation from the others (see the module docstring).

    ``tolerance``: how far from zero a drift may be and still be ``in_line``; by default a
    tenth of the range of the scores on the sheet (on a 0-100 scorecard that spans
    60-100, 4 points). Raises :class:`SheetError` when a score is not a number."""
    numbers: list[list[float | None]] = []
    for rater, row in zip(sheet.raters, sheet.values, strict=True):
        numeric: list[float | None] = []
        for value in row:
            if isinstance(value, str):
                raise SheetError(f"rater {rater!r}: drift needs numeric scores, got {value!r}")
            numeric.append(value)
        numbers.append(numeric)
    present = [v for row in numbers for v in row if v is not None]
    if tolerance is None:
        tolerance = (max(present) - min(present)) / 10 if present else 0.0
    consensus: list[float | None] = []
    for u in range(len(sheet.units)):
        scores = [score for row in numbers if (score := row[u]) is not None]
        consensus.append(statistics.median(scores) if len(scores) >= 2 else None)
    result: list[Drift] = []
    for r, rater in enumerate(sheet.raters):
        deviations: list[float] = []
        for u, middle in enumerate(consensus):
            own = numbers[r][u]
            if own is not None and middle is not None:
                deviations.append(own - middle)
        mean = statistics.fmean(deviations) if deviations else 0.0
        if mean < -tolerance:
            verdict = Verdict.TOO_STRICT
        elif mean > tolerance:
            verdict = Verdict.TOO_LENIENT
        else:
            verdict = Verdict.IN_LINE
        result.append(Drift(rater, mean, len(deviations), verdict))
    return result
