"""ISO 2859-1 single sampling plans for normal inspection (抽样方案, AQL 检验).

Pure tables and their lookup. Table I gives the sample size code letter of a lot size at
an inspection level (special S-1..S-4, general I-III); Table II-A gives, per code letter
and acceptance quality limit (AQL), the acceptance and rejection numbers, or an arrow:
↓ use the first plan below the arrow, ↑ the first plan above it. The sample size goes
with the plan the arrow leads to, not with the code letter one started from. When the
sample size reaches the lot size, every item is inspected (100 %) with the same Ac/Re.

Supported AQL columns: 0.065 … 6.5 (percent nonconforming), the ones a service desk
uses. The edge columns of the printed table (0.010-0.040 and 10 upward) have cells where
an arrow would leave the table (row R below, row A above) and are not offered.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


class InspectionLevel(enum.StrEnum):
    S1 = "S-1"
    S2 = "S-2"
    S3 = "S-3"
    S4 = "S-4"
    I = "I"  # noqa: E741 (the standard's name)
    II = "II"
    III = "III"


LEVELS: tuple[InspectionLevel, ...] = tuple(InspectionLevel)

# Table I: (smallest lot of the row, code letters for S-1 S-2 S-3 S-4 I II III).
_TABLE_I: tuple[tuple[int, str], ...] = (
    (2, "AAAAAAB"),
    (9, "AAAAABC"),
    (16, "AABBBCD"),
    (26, "ABBCCDE"),
    (51, "BBCCCEF"),
    (91, "BBCDDFG"),
    (151, "BCDEEGH"),
    (281, "BCDEFHJ"),
    (501, "CCEFGJK"),
    (1201, "CDEGHKL"),
    (3201, "CDFGJLM"),
    (10001, "CDFHKMN"),
    (35001, "DEGJLNP"),
    (150001, "DEGJMPQ"),
    (500001, "DEHKNQR"),
)

LOT_ROWS: tuple[tuple[int, int | None], ...] = tuple(
    (low, (_TABLE_I[i + 1][0] - 1) if i + 1 < len(_TABLE_I) else None)
    for i, (low, _) in enumerate(_TABLE_I)
)
"""Table I's lot-size rows as (smallest, largest) lot; ``None``: "and over"."""

SAMPLE_SIZES: dict[str, int] = {
    "A": 2,
    "B": 3,
    "C": 5,
    "D": 8,
    "E": 13,
    "F": 20,
    "G": 32,
    "H": 50,
    "J": 80,
    "K": 125,
    "L": 200,
    "M": 315,
    "N": 500,
    "P": 800,
    "Q": 1250,
    "R": 2000,
}
CODE_LETTERS: tuple[str, ...] = tuple(SAMPLE_SIZES)

AQLS: tuple[str, ...] = (
    *("0.065", "0.10", "0.15", "0.25", "0.40", "0.65"),
    *("1.0", "1.5", "2.5", "4.0", "6.5"),
)
"""The supported AQL columns, as the standard prints them."""

# Table II-A, normal inspection, the supported columns as printed: "Ac/Re", "↓" or "↑".
_TABLE_II_A: dict[str, str] = {
    #      0.065 0.10 0.15 0.25  0.40  0.65  1.0   1.5   2.5   4.0   6.5
    "A": "↓     ↓    ↓    ↓     ↓     ↓     ↓     ↓     ↓     ↓     0/1",
    "B": "↓     ↓    ↓    ↓     ↓     ↓     ↓     ↓     ↓     0/1   ↑",
    "C": "↓     ↓    ↓    ↓     ↓     ↓     ↓     ↓     0/1   ↑     ↓",
    "D": "↓     ↓    ↓    ↓     ↓     ↓     ↓     0/1   ↑     ↓     1/2",
    "E": "↓     ↓    ↓    ↓     ↓     ↓     0/1   ↑     ↓     1/2   2/3",
    "F": "↓     ↓    ↓    ↓     ↓     0/1   ↑     ↓     1/2   2/3   3/4",
    "G": "↓     ↓    ↓    ↓     0/1   ↑     ↓     1/2   2/3   3/4   5/6",
    "H": "↓     ↓    ↓    0/1   ↑     ↓     1/2   2/3   3/4   5/6   7/8",
    "J": "↓     ↓    0/1  ↑     ↓     1/2   2/3   3/4   5/6   7/8   10/11",
    "K": "↓     0/1  ↑    ↓     1/2   2/3   3/4   5/6   7/8   10/11 14/15",
    "L": "0/1   ↑    ↓    1/2   2/3   3/4   5/6   7/8   10/11 14/15 21/22",
    "M": "↑     ↓    1/2  2/3   3/4   5/6   7/8   10/11 14/15 21/22 ↑",
    "N": "↓     1/2  2/3  3/4   5/6   7/8   10/11 14/15 21/22 ↑     ↑",
    "P": "1/2   2/3  3/4  5/6   7/8   10/11 14/15 21/22 ↑     ↑     ↑",
    "Q": "2/3   3/4  5/6  7/8   10/11 14/15 21/22 ↑     ↑     ↑     ↑",
    "R": "3/4   5/6  7/8  10/11 14/15 21/22 ↑     ↑     ↑     ↑     ↑",
}
_CELLS: dict[str, list[str]] = {letter: row.split() for letter, row in _TABLE_II_A.items()}


class PlanInputError(ValueError):
    """A lot size, level or AQL the tables do not cover; ``field`` names which."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SinglePlan:
    """One single sampling plan: inspect ``sample_size`` items, accept the lot with at most
    ``accept`` nonconforming, reject it at ``reject`` or more."""

    code_letter: str
    sample_size: int
    accept: int
    reject: int

    def to_json(self) -> dict[str, object]:
        return {
            "code_letter": self.code_letter,
            "sample_size": self.sample_size,
            "accept": self.accept,
            "reject": self.reject,
        }


def parse_level(text: str) -> InspectionLevel:
    spelled = text.strip().upper().replace("S", "S-").replace("--", "-")
    for level in InspectionLevel:
        if spelled == level.value:
            return level
    choices = ", ".join(level.value for level in InspectionLevel)
    raise PlanInputError("level", f"unknown inspection level {text!r} (one of {choices})")


def parse_aql(text: str) -> str:
    """The AQL column for ``text`` ("2.5", "4", "0.1" …), as the standard prints it."""
    try:
        wanted = Decimal(text.strip())
    except InvalidOperation:
        wanted = None
    for column in AQLS:
        if wanted is not None and Decimal(column) == wanted:
            return column
    raise PlanInputError("aql", f"unsupported AQL {text!r} (one of {', '.join(AQLS)})")


def code_letter(lot_size: int, level: InspectionLevel) -> str:
    """Table I: the sample size code letter of a lot at an inspection level."""
    if lot_size < 2:
        raise PlanInputError("lot", f"a lot has at least 2 items, got {lot_size}")
    letters = next(row for low, row in reversed(_TABLE_I) if lot_size >= low)
    return letters[LEVELS.index(level)]


def table_plan(letter: str, aql: str) -> SinglePlan:
    """Table II-A with its arrows followed: the plan for a code letter and AQL column."""
    if letter not in _CELLS:
        raise PlanInputError("code_letter", f"unknown code letter {letter!r}")
    column = AQLS.index(aql) if aql in AQLS else -1
    if column < 0:
        raise PlanInputError("aql", f"unsupported AQL {aql!r}")
    row = CODE_LETTERS.index(letter)
    while True:
        cell = _CELLS[CODE_LETTERS[row]][column]
        if cell == "↓":
            row += 1
        elif cell == "↑":
            row -= 1
        else:
            accept, reject = (int(part) for part in cell.split("/"))
            found = CODE_LETTERS[row]
            return SinglePlan(found, SAMPLE_SIZES[found], accept, reject)


def single_plan(lot_size: int, level: InspectionLevel, aql: str) -> SinglePlan:
    """ISO 2859-1 single sampling, normal inspection, for one lot.

    ``code_letter`` is Table I's letter for the lot; ``sample_size`` follows the arrows
    (so it may belong to another letter), and becomes the lot size when the plan asks for
    at least as many items as the lot has (100 % inspection, same Ac/Re)."""
    letter = code_letter(lot_size, level)
    plan = table_plan(letter, aql)
    return SinglePlan(letter, min(plan.sample_size, lot_size), plan.accept, plan.reject)
