"""Calibration: Krippendorff's α through the calibration sheet, and each rater's drift."""

from __future__ import annotations

import random

import krippendorff
import numpy as np
import pytest

from csdesk.qc.calibration import (
    Level,
    SheetError,
    Verdict,
    agreement,
    drift,
    parse_sheet,
)

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four
# observers, twelve units, values 1-5, missing values blank. His results: nominal .743,
# ordinal .815, interval .849 (ratio .797).
KRIPPENDORFF_2011 = """rater,1,2,3,4,5,6,7,8,9,10,11,12
A,1,2,3,3,2,1,4,1,2,,,
B,1,2,3,3,2,2,4,1,2,5,,3
C,,3,3,3,2,3,4,2,2,5,1,
D,1,2,3,3,2,4,4,1,2,5,1,
"""


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (Level.NOMINAL, 0.743),
        (Level.ORDINAL, 0.815),
        (Level.INTERVAL, 0.849),
        (Level.RATIO, 0.797),
    ],
)
def test_krippendorffs_worked_example(level: Level, expected: float) -> None:
    sheet = parse_sheet(KRIPPENDORFF_2011, level)
    result = agreement(sheet, level)
    assert round(result.alpha, 3) == expected
    # Unit 12 has a single value, so 40 of the 41 values are pairable.
    assert (result.raters, result.units, result.pairable) == (4, 12, 40)


def _csv(matrix: list[list[float | None]]) -> str:
    lines = ["rater," + ",".join(f"u{u}" for u in range(len(matrix[0])))]
    for r, row in enumerate(matrix):
        cells = ["" if v is None else (str(int(v)) if v == int(v) else repr(v)) for v in row]
        lines.append(f"inspector{r}," + ",".join(cells))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("level", list(Level))
@pytest.mark.parametrize("trial", range(25))
def test_equals_the_package_on_random_sheets(level: Level, trial: int) -> None:
    rng = random.Random(f"{level}-{trial}")
    raters, units = rng.randint(2, 7), rng.randint(2, 40)
    scales: list[list[float]] = [[0, 1], [1, 2, 3, 4, 5], [0, 10, 20, 50, 100], [0.5, 1.5, 2.25]]
    scale = rng.choice(scales)
    missing = rng.choice([0.0, 0.1, 0.4])
    matrix: list[list[float | None]] = [
        [None if rng.random() < missing else float(rng.choice(scale)) for _ in range(units)]
        for _ in range(raters)
    ]
    # Make sure α is defined: two raters disagree on the first unit.
    matrix[0][0], matrix[1][0] = float(scale[0]), float(scale[-1])
    expected = krippendorff.alpha(
        reliability_data=np.array(
            [[np.nan if v is None else v for v in row] for row in matrix], dtype=float
        ),
        level_of_measurement=level.value,
    )
    result = agreement(parse_sheet(_csv(matrix), level), level)
    assert abs(result.alpha - expected) <= 1e-9
    assert result.raters == raters
    assert result.units == units


def test_nominal_labels_are_categories() -> None:
    labelled = "rater,c1,c2,c3,c4,c5\nwang,pass,pass,fail,pass,fail\nli,pass,fail,fail,pass,\n"
    coded = "rater,c1,c2,c3,c4,c5\nwang,1,1,0,1,0\nli,1,0,0,1,\n"
    assert agreement(parse_sheet(labelled, Level.NOMINAL), Level.NOMINAL).alpha == pytest.approx(
        agreement(parse_sheet(coded, Level.NOMINAL), Level.NOMINAL).alpha, abs=1e-12
    )


@pytest.mark.parametrize(
    ("text", "level", "problem"),
    [
        ("", Level.NOMINAL, "empty sheet"),
        ("inspector,u1,u2\na,1,2\nb,1,2\n", Level.NOMINAL, "`rater`"),
        ("rater\na\nb\n", Level.NOMINAL, "no unit columns"),
        ("rater,u1,u2\na,1,2\nb,1\n", Level.NOMINAL, "row 3 has 2 cells, the header has 3"),
        ("rater,u1,u2\na,1,2\nb,1,2,3\n", Level.NOMINAL, "row 3 has 4 cells"),
        ("rater,u1,u2\na,1,good\nb,1,2\n", Level.INTERVAL, "'good' is not a number"),
        ("rater,u1,u2\na,1,good\nb,1,2\n", Level.ORDINAL, "not a number"),
        ("rater,u1,u2\na,1,2\n", Level.NOMINAL, "at least 2 raters"),
        ("rater,u1,u2\na,1,2\na,1,2\n", Level.NOMINAL, "appears twice"),
        ("rater,u1,u1\na,1,2\nb,1,2\n", Level.NOMINAL, "same name"),
        ("rater,u1,u2\na,1,\nb,,2\n", Level.NOMINAL, "no unit was scored by at least two"),
        ("rater,u1,u2\na,1,1\nb,1,1\n", Level.NOMINAL, "no variation"),
        ("rater,u1,u2\na,-1,2\nb,1,2\n", Level.RATIO, ">= 0"),
    ],
)
def test_bad_sheets_name_the_problem(text: str, level: Level, problem: str) -> None:
    with pytest.raises(SheetError, match=problem.replace("(", r"\(")):
        agreement(parse_sheet(text, level), level)


def test_a_bom_and_blank_lines_are_fine() -> None:
    text = "\ufeffrater,u1,u2\n\na,1,2\nb,1,3\n\n"
    assert parse_sheet(text, Level.INTERVAL).raters == ("a", "b")


def test_drift_finds_the_strict_and_the_lenient() -> None:
    sheet = parse_sheet(
        "rater,c1,c2,c3,c4\n"
        "zhang,80,90,70,85\n"
        "li,81,89,71,\n"
        "wang,70,80,60,75\n"  # ten points under the others
        "zhao,90,98,80,95\n",  # about ten over
        Level.INTERVAL,
    )
    result = {d.rater: d for d in drift(sheet, tolerance=3)}
    assert result["wang"].verdict is Verdict.TOO_STRICT
    assert result["zhao"].verdict is Verdict.TOO_LENIENT
    assert result["zhang"].verdict is Verdict.IN_LINE
    assert result["li"].verdict is Verdict.IN_LINE
    assert result["li"].units == 3
    # Consensus (medians): c1 80.5, c2 89.5, c3 70.5, c4 85.
    assert result["wang"].mean_deviation == pytest.approx((-10.5 - 9.5 - 10.5 - 10) / 4)
    assert result["zhao"].mean_deviation == pytest.approx((9.5 + 8.5 + 9.5 + 10) / 4)
    assert result["li"].mean_deviation == pytest.approx(0.5 / 3)


def test_one_outlier_does_not_make_the_others_drift() -> None:
    sheet = parse_sheet("rater,c1,c2,c3\nwang,80,90,70\nli,81,89,71\nzhao,60,70,50\n", Level.RATIO)
    verdicts = {d.rater: d.verdict for d in drift(sheet)}
    assert verdicts == {
        "wang": Verdict.IN_LINE,
        "li": Verdict.IN_LINE,
        "zhao": Verdict.TOO_STRICT,
    }


def test_drift_default_tolerance_is_a_tenth_of_the_range() -> None:
    sheet = parse_sheet("rater,c1,c2\na,0,100\nb,5,100\nc,0,100\n", Level.INTERVAL)
    # range 100 → tolerance 10: b's +2.5 is in line.
    assert [d.verdict for d in drift(sheet)] == [Verdict.IN_LINE] * 3


def test_drift_needs_numbers() -> None:
    sheet = parse_sheet("rater,c1\na,pass\nb,fail\n", Level.NOMINAL)
    with pytest.raises(SheetError, match="numeric"):
        drift(sheet)
