"""ISO 2859-1 single sampling, normal inspection: Table I and Table II-A.

The expected values are typed from the standard's published tables (column by column,
as a reader follows the arrows with a finger), not generated from the implementation,
which holds the tables row by row as printed, arrows included.
"""

from __future__ import annotations

import pytest

from csdesk.qc.aql import (
    AQLS,
    CODE_LETTERS,
    InspectionLevel,
    PlanInputError,
    code_letter,
    parse_aql,
    parse_level,
    single_plan,
    table_plan,
)

# Table I, one column per inspection level: the code letters of the 15 lot-size rows
# 2-8, 9-15, 16-25, 26-50, 51-90, 91-150, 151-280, 281-500, 501-1200, 1201-3200,
# 3201-10000, 10001-35000, 35001-150000, 150001-500000, 500001 and over.
LOT_ROWS = [
    (2, 8),
    (9, 15),
    (16, 25),
    (26, 50),
    (51, 90),
    (91, 150),
    (151, 280),
    (281, 500),
    (501, 1200),
    (1201, 3200),
    (3201, 10000),
    (10001, 35000),
    (35001, 150000),
    (150001, 500000),
    (500001, 10_000_000),
]
TABLE_I_COLUMNS = {
    "S-1": "A A A A B B B B C C C C D D D",
    "S-2": "A A A B B B C C C D D D E E E",
    "S-3": "A A B B C C D D E E F F G G H",
    "S-4": "A A B C C D E E F G G H J J K",
    "I": "A A B C C D E F G H J K L M N",
    "II": "A B C D E F G H J K L M N P Q",
    "III": "B C D E F G H J K L M N P Q R",
}

TABLE_I_CASES = [
    pytest.param(low, high, level, letter, id=f"{low}-{level}")
    for level, column in TABLE_I_COLUMNS.items()
    for (low, high), letter in zip(LOT_ROWS, column.split(), strict=True)
]


@pytest.mark.parametrize(("low", "high", "level", "letter"), TABLE_I_CASES)
def test_table_i_every_row_and_level(low: int, high: int, level: str, letter: str) -> None:
    for lot in (low, (low + high) // 2, high):
        assert code_letter(lot, parse_level(level)) == letter, lot


# Table II-A with the arrows followed, one AQL column at a time: for code letters
# A B C D E F G H J K L M N P Q R, the plan used as "sample size:Ac/Re".
TABLE_II_A_COLUMNS = {
    "0.065": "200:0/1 " * 12 + "800:1/2 800:1/2 1250:2/3 2000:3/4",
    "0.10": "125:0/1 " * 11 + "500:1/2 500:1/2 800:2/3 1250:3/4 2000:5/6",
    "0.15": "80:0/1 " * 10 + "315:1/2 315:1/2 500:2/3 800:3/4 1250:5/6 2000:7/8",
    "0.25": "50:0/1 " * 9 + "200:1/2 200:1/2 315:2/3 500:3/4 800:5/6 1250:7/8 2000:10/11",
    "0.40": "32:0/1 " * 8 + "125:1/2 125:1/2 200:2/3 315:3/4 500:5/6 800:7/8 1250:10/11 2000:14/15",
    "0.65": "20:0/1 " * 7
    + "80:1/2 80:1/2 125:2/3 200:3/4 315:5/6 500:7/8 800:10/11 1250:14/15 2000:21/22",
    "1.0": "13:0/1 " * 6
    + "50:1/2 50:1/2 80:2/3 125:3/4 200:5/6 315:7/8 500:10/11 800:14/15 1250:21/22"
    + " 1250:21/22",
    "1.5": "8:0/1 " * 5
    + "32:1/2 32:1/2 50:2/3 80:3/4 125:5/6 200:7/8 315:10/11 500:14/15 800:21/22"
    + " 800:21/22 800:21/22",
    "2.5": "5:0/1 " * 4
    + "20:1/2 20:1/2 32:2/3 50:3/4 80:5/6 125:7/8 200:10/11 315:14/15 500:21/22"
    + " 500:21/22 500:21/22 500:21/22",
    "4.0": "3:0/1 " * 3
    + "13:1/2 13:1/2 20:2/3 32:3/4 50:5/6 80:7/8 125:10/11 200:14/15 315:21/22"
    + " 315:21/22 315:21/22 315:21/22 315:21/22",
    "6.5": "2:0/1 2:0/1 "
    + "8:1/2 8:1/2 13:2/3 20:3/4 32:5/6 50:7/8 80:10/11 125:14/15 200:21/22"
    + " 200:21/22" * 5,
}


def _expected(cell: str) -> tuple[int, int, int]:
    size, _, ac_re = cell.partition(":")
    accept, reject = ac_re.split("/")
    return int(size), int(accept), int(reject)


TABLE_II_A_CASES = [
    pytest.param(letter, aql, _expected(cell), id=f"{letter}-{aql}")
    for aql, column in TABLE_II_A_COLUMNS.items()
    for letter, cell in zip(CODE_LETTERS, column.split(), strict=True)
]


def test_every_supported_aql_is_tested() -> None:
    assert tuple(TABLE_II_A_COLUMNS) == AQLS


@pytest.mark.parametrize(("letter", "aql", "expected"), TABLE_II_A_CASES)
def test_table_ii_a_with_arrows(letter: str, aql: str, expected: tuple[int, int, int]) -> None:
    plan = table_plan(letter, aql)
    assert (plan.sample_size, plan.accept, plan.reject) == expected


@pytest.mark.parametrize(
    ("lot", "level", "aql", "expected"),
    [
        # The textbook case: 1000 items, level II → J, n = 80.
        (1000, "II", "2.5", ("J", 80, 5, 6)),
        (1000, "II", "4.0", ("J", 80, 7, 8)),
        (1000, "II", "0.65", ("J", 80, 1, 2)),
        # ↓: letter F (20) at AQL 0.10 follows the arrow down to K (125, 0/1) — the code
        # letter stays Table I's, the sample size is the plan's.
        (100, "II", "0.10", ("F", 100, 0, 1)),  # and 125 ≥ 100: 100 % inspection
        (3000, "II", "0.10", ("K", 125, 0, 1)),
        # ↑: letter B at 6.5 uses A's plan (2, 0/1); M at 6.5 goes up to L (200, 21/22).
        (12, "II", "6.5", ("B", 2, 0, 1)),
        (20000, "II", "6.5", ("M", 200, 21, 22)),
        # ↓ between 0/1 and 1/2: C at 6.5 → D (8, 1/2), so a lot of 20 inspects 8.
        (20, "II", "6.5", ("C", 8, 1, 2)),
        # 100 %: the plan asks for at least the whole lot.
        (5, "II", "2.5", ("A", 5, 0, 1)),
        (2, "III", "0.065", ("B", 2, 0, 1)),
        (60, "II", "0.065", ("E", 60, 0, 1)),
        (200, "II", "0.065", ("G", 200, 0, 1)),
        (201, "II", "0.065", ("G", 200, 0, 1)),
        (10_000_000, "III", "0.065", ("R", 2000, 3, 4)),
    ],
)
def test_plans_arrows_and_full_inspection(
    lot: int, level: str, aql: str, expected: tuple[str, int, int, int]
) -> None:
    plan = single_plan(lot, parse_level(level), parse_aql(aql))
    assert (plan.code_letter, plan.sample_size, plan.accept, plan.reject) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("II", InspectionLevel.II), ("s-3", InspectionLevel.S3), ("S4", InspectionLevel.S4)],
)
def test_levels_spelled_loosely(text: str, expected: InspectionLevel) -> None:
    assert parse_level(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"), [("2.5", "2.5"), ("4", "4.0"), ("0.1", "0.10"), ("1.00", "1.0")]
)
def test_aql_spellings(text: str, expected: str) -> None:
    assert parse_aql(text) == expected


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: parse_level("IV"), "level"),
        (lambda: parse_aql("3"), "aql"),
        (lambda: parse_aql("10"), "aql"),
        (lambda: parse_aql("abc"), "aql"),
        (lambda: code_letter(1, InspectionLevel.II), "lot"),
    ],
)
def test_bad_input_names_the_field(call: object, field: str) -> None:
    assert callable(call)
    with pytest.raises(PlanInputError) as error:
        call()
    assert error.value.field == field
