"""Answers are faithful by construction: every number must be backed by the facts or the user."""

from __future__ import annotations

import re
from typing import Any

from assistant.numbers import is_backed, numbers_in_data, numbers_in_text

_ANSWER_NUM = re.compile(r"(?<![A-Za-z0-9.\-])\d+(?:\.\d+)?")


def numbers_in_answer(answer: str) -> list[float]:
    """Numbers written in an answer (digits only: that is how answers cite facts)."""
    # identifiers such as plan-3, X-n101-k25 or 08:30 are backed separately (they are in the facts as text)
    cleaned = re.sub(r"\b[\w-]*[A-Za-z][\w-]*\d[\w-]*\b", " ", answer or "")
    return [float(m.group(0)) for m in _ANSWER_NUM.finditer(cleaned)]


def unbacked_numbers(answer: str, facts: list[Any], user_texts: list[str]) -> list[float]:
    """The numbers in ``answer`` that neither the tools' facts nor the user's words contain."""
    backing = set(numbers_in_data(facts))
    for text in user_texts:
        backing |= numbers_in_text(text)
    return [n for n in numbers_in_answer(answer) if not is_backed(n, backing)]


def is_faithful(answer: str, facts: list[Any], user_texts: list[str]) -> bool:
    return not unbacked_numbers(answer, facts, user_texts)
