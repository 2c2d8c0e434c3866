"""Course content and quiz grading (csdesk.training.courses), pure, by tables."""

from __future__ import annotations

from typing import Any

import pytest

from csdesk.training.courses import CourseError, grade, parse_answers, parse_content


def course(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "服务用语",
        "summary": "禁用语与替代说法",
        "pages": [{"title": "为什么", "body": "不说**没办法**"}],
        "questions": [
            {
                "text": "哪句是禁用语？",
                "kind": "single",
                "options": ["没办法", "我帮您查"],
                "answer": 0,
            },
            {
                "key": "alt",
                "text": "哪些可以代替？",
                "kind": "multiple",
                "options": ["我帮您查一下", "爱买不买", "我为您转接"],
                "answer": [0, 2],
            },
        ],
        "pass_mark": 100,
    }
    base.update(changes)
    return base


def test_parse_fills_keys_and_defaults() -> None:
    content = parse_content(course(pass_mark=50))
    assert [q.key for q in content.questions] == ["q1", "alt"]
    assert content.questions[1].answer == frozenset({0, 2})
    assert content.to_json()["questions"][0]["answer"] == [0]
    assert parse_content(content.to_json()) == content  # a stored version reads back


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": 5}, "title"),
        ({"pages": []}, "pages"),
        ({"pages": "x"}, "pages"),
        ({"pages": [{"title": "a"}]}, "pages[0].body"),
        ({"pages": [{"title": "a", "body": "x" * 20_001}]}, "pages[0].body"),
        ({"questions": []}, "questions"),
        ({"questions": [{"text": "q", "options": ["a"], "answer": 0}]}, "questions[0].options"),
        (
            {"questions": [{"text": "q", "options": ["a", "a"], "answer": 0}]},
            "questions[0].options",
        ),
        ({"questions": [{"text": "q", "options": ["a", "b"], "answer": 2}]}, "questions[0].answer"),
        (
            {"questions": [{"text": "q", "options": ["a", "b"], "answer": [0, 1]}]},
            "questions[0].answer",
        ),
        (
            {
                "questions": [
                    {"text": "q", "options": ["a", "b"], "answer": [0, 0], "kind": "multiple"}
                ]
            },
            "questions[0].answer",
        ),
        (
            {"questions": [{"text": "q", "options": ["a", "b"], "answer": True}]},
            "questions[0].answer",
        ),
        (
            {"questions": [{"text": "q", "options": ["a", "b"], "answer": 0, "kind": "essay"}]},
            "questions[0].kind",
        ),
        ({"questions": [{"text": "", "options": ["a", "b"], "answer": 0}]}, "questions[0].text"),
        (
            {"questions": [{"key": "Q!", "text": "q", "options": ["a", "b"], "answer": 0}]},
            "questions[0].key",
        ),
        (
            {
                "questions": [
                    {"key": "a", "text": "q", "options": ["a", "b"], "answer": 0},
                    {"key": "a", "text": "r", "options": ["a", "b"], "answer": 0},
                ]
            },
            "questions[1].key",
        ),
        ({"pass_mark": 101}, "pass_mark"),
        ({"pass_mark": "80"}, "pass_mark"),
    ],
)
def test_malformed_course_names_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(CourseError) as caught:
        parse_content(course(**changes))
    assert caught.value.field == field


def test_not_an_object() -> None:
    with pytest.raises(CourseError) as caught:
        parse_content([1])
    assert caught.value.field == "course"


@pytest.mark.parametrize(
    ("answers", "pass_mark", "score", "correct", "passed"),
    [
        ({"q1": 0, "alt": [0, 2]}, 100, 100, 2, True),
        ({"q1": [0], "alt": [2, 0]}, 100, 100, 2, True),  # order does not matter
        ({"q1": 0, "alt": [0]}, 100, 50, 1, False),  # multiple: all or nothing
        ({"q1": 0, "alt": [0, 1, 2]}, 50, 50, 1, True),
        ({"q1": 1, "alt": [1]}, 0, 0, 0, True),
        ({"q1": 1, "alt": [0, 2]}, 51, 50, 1, False),
    ],
)
def test_grade(
    answers: dict[str, Any], pass_mark: int, score: int, correct: int, passed: bool
) -> None:
    content = parse_content(course(pass_mark=pass_mark))
    result = grade(content, parse_answers(answers, content.questions))
    assert (result.score, result.correct, result.total, result.passed) == (
        score,
        correct,
        2,
        passed,
    )
    assert result.questions[1].expected == (0, 2)


def test_pass_mark_is_compared_exactly() -> None:
    three = course(
        questions=[{"text": f"q{n}", "options": ["a", "b"], "answer": 0} for n in range(3)],
        pass_mark=67,
    )
    content = parse_content(three)
    result = grade(content, parse_answers({"q1": 0, "q2": 0, "q3": 1}, content.questions))
    assert result.score == 67  # shown rounded
    assert not result.passed  # 66.7 % does not reach 67 %


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ([0, 1], "answers"),
        ({"q1": 0}, "answers.alt"),
        ({"q1": 0, "alt": [0], "zz": 1}, "answers.zz"),
        ({"q1": 5, "alt": [0]}, "answers.q1"),
        ({"q1": [0, 1], "alt": [0]}, "answers.q1"),
        ({"q1": 0, "alt": []}, "answers.alt"),
        ({"q1": 0, "alt": [0, 0]}, "answers.alt"),
        ({"q1": "0", "alt": [0]}, "answers.q1"),
        ({"q1": True, "alt": [0]}, "answers.q1"),
    ],
)
def test_bad_answers_name_the_question(answers: Any, field: str) -> None:
    content = parse_content(course())
    with pytest.raises(CourseError) as caught:
        parse_answers(answers, content.questions)
    assert caught.value.field == field


def test_public_question_has_no_answer() -> None:
    content = parse_content(course())
    public = content.questions[0].public_json()
    assert "answer" not in public
    assert "explanation" not in public
