"""A course's content (课程): a few pages of Markdown and a short quiz (单选 / 多选) with a
pass mark, parsed and checked as data, and the grading of one attempt.

A version of a course is :meth:`CourseContent.to_json`; a course edited after it was
assigned keeps each assignment on the version the agent was given, so what the agent read
and was graded against never changes under them. Every parse error names its field
(``pages[1].body``, ``questions[0].answer``) so the API can answer 400 naming it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

MAX_TITLE: Final = 120
MAX_SUMMARY: Final = 500
MAX_PAGES: Final = 20
MAX_PAGE_CHARS: Final = 20_000
MAX_QUESTIONS: Final = 30
MAX_OPTIONS: Final = 8
MAX_QUESTION_CHARS: Final = 500
MAX_OPTION_CHARS: Final = 200
DEFAULT_PASS_MARK: Final = 80
QUESTION_KEY: Final = re.compile(r"^[a-z0-9_]{1,32}$")


class CourseError(ValueError):
    """A malformed course, quiz or answer sheet; ``field`` names the part that is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class QuestionKind(enum.StrEnum):
    SINGLE = "single"
    """单选: exactly one option is right, and the answer names one."""
    MULTIPLE = "multiple"
    """多选: one or more options are right; the answer must name exactly those."""


@dataclass(frozen=True)
class Page:
    title: str
    body: str
    """Markdown (rendered safely by :mod:`csdesk.training.markdown`)."""


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    kind: QuestionKind
    options: tuple[str, ...]
    answer: frozenset[int]
    """Indexes of the right options."""
    explanation: str = ""
    """Shown with the result: why the right answer is right."""

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            "kind": self.kind.value,
            "options": list(self.options),
            "answer": sorted(self.answer),
            "explanation": self.explanation,
        }

    def public_json(self) -> dict[str, Any]:
        """What the agent sees before answering: no answer, no explanation."""
        return {
            "key": self.key,
            "text": self.text,
            "kind": self.kind.value,
            "options": list(self.options),
        }


@dataclass(frozen=True)
class CourseContent:
    """One version of a course: what an agent reads and is graded against."""

    title: str
    summary: str
    pages: tuple[Page, ...]
    questions: tuple[Question, ...]
    pass_mark: int = DEFAULT_PASS_MARK
    """Percent of questions answered right needed to pass (0-100)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "summary": self.summary,
            "pages": [{"title": p.title, "body": p.body} for p in self.pages],
            "questions": [q.to_json() for q in self.questions],
            "pass_mark": self.pass_mark,
        }


def _text(value: object, field: str, *, limit: int, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise CourseError(field, "must be text")
    cleaned = value.strip()
    if required and not cleaned:
        raise CourseError(field, "is required (必填)")
    if len(cleaned) > limit:
        raise CourseError(field, f"must be at most {limit} characters")
    return cleaned


def _whole(value: object, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise CourseError(field, f"must be a whole number from {low} to {high}")
    return value


def _list(value: object, field: str, *, low: int, high: int) -> list[Any]:
    if not isinstance(value, list):
        raise CourseError(field, "must be a list")
    if not low <= len(value) <= high:
        raise CourseError(field, f"must have {low} to {high} entries")
    return value


def _page(raw: object, field: str) -> Page:
    if not isinstance(raw, Mapping):
        raise CourseError(field, "must be an object: {title, body}")
    return Page(
        title=_text(raw.get("title"), f"{field}.title", limit=MAX_TITLE),
        body=_text(raw.get("body"), f"{field}.body", limit=MAX_PAGE_CHARS),
    )


def _question(raw: object, field: str, index: int) -> Question:
    if not isinstance(raw, Mapping):
        raise CourseError(field, "must be an object: {text, kind, options, answer}")
    key = raw.get("key") or f"q{index + 1}"
    if not isinstance(key, str) or not QUESTION_KEY.match(key):
        raise CourseError(f"{field}.key", "must be 1-32 of a-z, 0-9 and _")
    kind_raw = raw.get("kind", QuestionKind.SINGLE.value)
    try:
        kind = QuestionKind(kind_raw)
    except ValueError:
        raise CourseError(f"{field}.kind", "must be single or multiple") from None
    options = tuple(
        _text(option, f"{field}.options[{n}]", limit=MAX_OPTION_CHARS)
        for n, option in enumerate(
            _list(raw.get("options"), f"{field}.options", low=2, high=MAX_OPTIONS)
        )
    )
    if len(set(options)) != len(options):
        raise CourseError(f"{field}.options", "must not repeat an option")
    answer_raw = raw.get("answer")
    if isinstance(answer_raw, int) and not isinstance(answer_raw, bool):
        answer_raw = [answer_raw]
    answers = _list(answer_raw, f"{field}.answer", low=1, high=len(options))
    answer = frozenset(_whole(a, f"{field}.answer", 0, len(options) - 1) for a in answers)
    if len(answer) != len(answers):
        raise CourseError(f"{field}.answer", "must not name an option twice")
    if kind is QuestionKind.SINGLE and len(answer) != 1:
        raise CourseError(f"{field}.answer", "a single-choice question has exactly one answer")
    return Question(
        key=key,
        text=_text(raw.get("text"), f"{field}.text", limit=MAX_QUESTION_CHARS),
        kind=kind,
        options=options,
        answer=answer,
        explanation=_text(
            raw.get("explanation"),
            f"{field}.explanation",
            limit=MAX_QUESTION_CHARS,
            required=False,
        ),
    )


def parse_content(raw: object) -> CourseContent:
    """A course version from its JSON (the editor's form, the API, the seed)."""
    if not isinstance(raw, Mapping):
        raise CourseError("course", "must be an object")
    pages = tuple(
        _page(p, f"pages[{n}]")
        for n, p in enumerate(_list(raw.get("pages"), "pages", low=1, high=MAX_PAGES))
    )
    questions = tuple(
        _question(q, f"questions[{n}]", n)
        for n, q in enumerate(_list(raw.get("questions"), "questions", low=1, high=MAX_QUESTIONS))
    )
    keys = [q.key for q in questions]
    for n, key in enumerate(keys):
        if key in keys[:n]:
            raise CourseError(f"questions[{n}].key", f"{key!r} is used by another question")
    pass_mark = raw.get("pass_mark", DEFAULT_PASS_MARK)
    return CourseContent(
        title=_text(raw.get("title"), "title", limit=MAX_TITLE),
        summary=_text(raw.get("summary"), "summary", limit=MAX_SUMMARY, required=False),
        pages=pages,
        questions=questions,
        pass_mark=_whole(pass_mark, "pass_mark", 0, 100),
    )


# -- grading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionResult:
    key: str
    correct: bool
    given: tuple[int, ...]
    expected: tuple[int, ...]
    explanation: str

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "correct": self.correct,
            "given": list(self.given),
            "expected": list(self.expected),
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class QuizResult:
    score: int
    """Percent of questions answered right, rounded half up."""
    correct: int
    total: int
    pass_mark: int
    passed: bool
    questions: tuple[QuestionResult, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "correct": self.correct,
            "total": self.total,
            "pass_mark": self.pass_mark,
            "passed": self.passed,
            "questions": [q.to_json() for q in self.questions],
        }


def parse_answers(raw: object, questions: Sequence[Question]) -> dict[str, frozenset[int]]:
    """The answer sheet ``{question key: [option index, ...]}`` (a bare index for a
    single-choice question is accepted). Every question must be answered; unknown keys,
    out-of-range options and a second option on a single-choice question are refused."""
    if not isinstance(raw, Mapping):
        raise CourseError("answers", "must be an object: question key → [option index]")
    by_key = {q.key: q for q in questions}
    for key in raw:
        if key not in by_key:
            raise CourseError(f"answers.{key}", "is not a question of this course")
    sheet: dict[str, frozenset[int]] = {}
    for question in questions:
        field = f"answers.{question.key}"
        value = raw.get(question.key)
        if value is None:
            raise CourseError(field, "is required: answer every question")
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value]
        picked = _list(value, field, low=1, high=len(question.options))
        chosen = frozenset(_whole(v, field, 0, len(question.options) - 1) for v in picked)
        if len(chosen) != len(picked):
            raise CourseError(field, "must not name an option twice")
        if question.kind is QuestionKind.SINGLE and len(chosen) != 1:
            raise CourseError(field, "a single-choice question takes exactly one option")
        sheet[question.key] = chosen
    return sheet


def grade(content: CourseContent, answers: Mapping[str, frozenset[int]]) -> QuizResult:
    """All-or-nothing per question (a multiple-choice answer is right only when it names
    exactly the right options); pass when the share right reaches the pass mark, compared
    exactly (2 of 3 right is 66.7 %: it does not pass a mark of 67)."""
    results = tuple(
        QuestionResult(
            key=q.key,
            correct=answers.get(q.key, frozenset()) == q.answer,
            given=tuple(sorted(answers.get(q.key, frozenset()))),
            expected=tuple(sorted(q.answer)),
            explanation=q.explanation,
        )
        for q in content.questions
    )
    correct = sum(1 for r in results if r.correct)
    total = len(results)
    score = (correct * 200 + total) // (2 * total) if total else 0
    return QuizResult(
        score=score,
        correct=correct,
        total=total,
        pass_mark=content.pass_mark,
        passed=correct * 100 >= content.pass_mark * total,
        questions=results,
    )
