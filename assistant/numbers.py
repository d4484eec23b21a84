"""Numbers a person wrote: digits, English number words, Chinese numerals, and unit conversions.

Used twice: grounding checks that every number in a tool call is backed by the user's
words, and the faithfulness check that every number in an answer is backed by the
user's words or a tool's facts.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from typing import Any

import cn2an

_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "a dozen": 12, "dozen": 12,
          "half a minute": 30, "a couple": 2, "couple": 2, "single": 1, "a": 1, "an": 1}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
             "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12}
_NUM_RE = re.compile(r"(?<![A-Za-z0-9.])-?\d+(?:[.,]\d+)?")
_WORD_RE = re.compile(r"\b(?:(" + "|".join(_TENS) + r")(?:[- ](" + "|".join(k for k in _UNITS if " " not in k and len(k) > 2) + r"))?|("
                      + "|".join(sorted((k for k in _UNITS if len(k) > 2), key=len, reverse=True)) + r")|("
                      + "|".join(_ORDINALS) + r"))(?:\s+hundred)?\b", re.IGNORECASE)
_CJK_RE = re.compile(r"[\u4e00-\u9fff]")


def has_chinese(text: str) -> bool:
    """True when the text contains CJK ideographs (the user writes Chinese)."""
    return bool(_CJK_RE.search(text or ""))


def _word_value(m: re.Match[str]) -> str:
    tens, unit, single, ordinal = m.groups()
    value = (_TENS.get((tens or "").lower(), 0) + _UNITS.get((unit or "").lower(), 0)
             + _UNITS.get((single or "").lower(), 0) + _ORDINALS.get((ordinal or "").lower(), 0))
    if m.group(0).lower().endswith("hundred"):
        value *= 100
    return str(value) if value or (single or "").lower() == "zero" else m.group(0)


# Durations people say without a digit, rewritten before the number words are ("an hour" is
# 1 hour, not the article "an"; "一个半小时" is 90 minutes, not 1 and a half).
_DURATIONS = [(re.compile(p, re.IGNORECASE), r) for p, r in (
    (r"\b(?:an|one) hour and a half\b|\b(?:an|one) and a half hours?\b", "90 minutes"),
    (r"\bhalf an hour\b|\bhalf-hour\b|\bhalf hour\b", "30 minutes"),
    (r"\ba quarter of an hour\b|\ba quarter hour\b", "15 minutes"),
    (r"\b(?:an|one) hour\b", "1 hour"),
    (r"\bhalf a minute\b", "30 seconds"),
    (r"\b(?:a|one) minute\b", "1 minute"),
    (r"一个半(?:小时|钟头)", "90分钟"),
    (r"半(?:个)?(?:小时|钟头)", "30分钟"),
    (r"一刻钟", "15分钟"),
    (r"半分钟", "30秒"),
)]


_ZH_CLOCK = re.compile(r"([零一二两三四五六七八九十]{1,3})点(?:([零一二三四五六七八九十]{1,3})(分?))?")


def _zh_clock(m: re.Match[str]) -> str:
    # cn2an reads "两点四十" as the decimal 2.40; a clock time is hours and minutes
    hours = cn2an.cn2an(m.group(1), "smart")
    minutes = f"{int(cn2an.cn2an(m.group(2), 'smart')):02d}分" if m.group(2) else ""
    return f"{int(hours)}点{minutes}"


def to_digits(text: str) -> str:
    """``text`` with Chinese numerals and English number words written as digits."""
    out = text or ""
    for pattern, repl in _DURATIONS:
        out = pattern.sub(repl, out)
    if has_chinese(out):
        with contextlib.suppress(ValueError, KeyError, IndexError):
            out = _ZH_CLOCK.sub(_zh_clock, out)
        # cn2an rejects some mixed strings; their digits still count
        with contextlib.suppress(ValueError, KeyError, IndexError):
            out = cn2an.transform(out, "cn2an")
    return _WORD_RE.sub(_word_value, out)


def numbers_in_text(text: str) -> set[float]:
    """Every number mentioned in ``text``, plus the conversions a dispatcher implies.

    Minutes and hours also count in seconds ("a 2 minute budget" backs ``120``) and hours
    in minutes, because tools take seconds and minutes.
    """
    if not text:
        return set()
    normalised = to_digits(text)
    found: set[float] = set()
    for m in _NUM_RE.finditer(normalised.replace(",", "")):
        try:
            found.add(float(m.group(0).replace(",", ".")))
        except ValueError:
            continue
    found |= _unit_conversions(normalised, found)
    return found


def _unit_conversions(text: str, found: set[float]) -> set[float]:
    extra: set[float] = set()
    lower = text.lower()
    if re.search(r"min|分钟|分", lower):
        extra |= {v * 60 for v in found}
    if re.search(r"hour|hr|小时|钟头", lower):
        extra |= {v * 3600 for v in found} | {v * 60 for v in found}
    if "half" in lower or "半" in lower:
        extra |= {30.0, 1800.0}
    return extra


def numbers_in_data(data: Any) -> set[float]:
    """Every number in a JSON-like structure (values and numeric strings), for faithfulness checks."""
    out: set[float] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, bool):
            continue
        if isinstance(item, (int, float)):
            out.add(float(item))
        elif isinstance(item, str):
            out |= {float(m.group(0)) for m in _NUM_RE.finditer(item) if "," not in m.group(0)}
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return out


def is_backed(value: float, backing: Iterable[float], rel_tol: float = 0.005) -> bool:
    """True when ``value`` equals some backing number, allowing the rounding an answer does."""
    for b in backing:
        if value == b:
            return True
        if abs(value - b) <= max(abs(b) * rel_tol, 0.051 if not float(value).is_integer() else 0.5):
            return True
        if abs(value - b * 100) <= 0.51:  # a fraction shown as a percentage
            return True
    return False
