"""A small S-expression reader for KiCad files: atoms, "quoted strings" with backslash escapes,
nested lists. Errors name the line and column (an unclosed list names where it was opened)."""

from __future__ import annotations

import re

from wessley_dagster.domain.bundle import BundleError

SExpr = list["SExpr | str"] | str
_TOKEN = re.compile(r'\s+|(\()|(\))|"((?:[^"\\]|\\.)*)"|([^\s()"]+)|(")', re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line} column {column}"


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), value, flags=re.DOTALL)


def parse(text: str, file: str) -> SExpr:
    """The first top-level expression of `text`; anything but whitespace after it is an error."""
    stack: list[tuple[list[SExpr], int]] = []
    result: SExpr | None = None
    for match in _TOKEN.finditer(text):
        opened, closed, quoted, atom, stray_quote = match.groups()
        if match.group(0).isspace():
            continue
        if result is not None:
            raise BundleError(file, _position(text, match.start()), "unexpected data after the top-level expression")
        if stray_quote:
            raise BundleError(file, _position(text, match.start()), "unterminated string")
        if opened:
            stack.append(([], match.start()))
            continue
        if closed:
            if not stack:
                raise BundleError(file, _position(text, match.start()), "')' without a matching '('")
            done, _ = stack.pop()
            value: SExpr = done
        else:
            value = _unescape(quoted) if quoted is not None else atom
        if stack:
            stack[-1][0].append(value)
        elif closed:
            result = value
        else:
            raise BundleError(file, _position(text, match.start()), "expected '(' at the start")
    if stack:
        raise BundleError(file, _position(text, stack[-1][1]), "'(' is never closed: the file is truncated")
    if result is None:
        raise BundleError(file, "line 1", "empty file")
    return result
