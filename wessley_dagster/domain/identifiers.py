"""Words inside identifiers: net, pin and part names as a technician would read them.

`/IGN_OUT3` -> ign out 3, `Net-(R55-Pad2)` -> net r55 pad 2, `CanHigh` -> can high, and a known
abbreviation glued to a one- or two-letter suffix is split off it: `CANH` -> can h, `VBATSW` ->
vbat sw. Used by the sparse encoder and by the descriptions; no Dagster here.
"""

from __future__ import annotations

import re
from functools import lru_cache

from wessley_dagster.domain.glossary import GLOSSARY
from wessley_dagster.domain.terms import TERMS

_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+(?:\.\d+)?|[^\W\d_]+", re.UNICODE)
_SPLITTABLE_SUFFIXES = {"h", "l", "p", "n", "hi", "lo", "tx", "rx", "sw", "in", "out", "en"}


def _known_words() -> frozenset[str]:
    words = set()
    for term in TERMS:
        for alias in (term.canonical, *term.synonyms):
            words.update(w for w in re.split(r"[^a-z0-9]+", alias.lower()) if len(w) >= 2)
    return frozenset(words)


_KNOWN = _known_words()


# Names (pins, nets, parts, the words of a question) repeat and their words are cached; a
# chunk's text is read once, and caching a 1,050-page vehicle's 60,000 texts held 56 MB.
CACHED_UP_TO = 64


def identifier_words(text: str) -> tuple[str, ...]:
    """The lower-case words of a text, identifiers split at separators, case changes and digits."""
    return _name_words(text) if len(text) <= CACHED_UP_TO else _words(text)


def _words(text: str) -> tuple[str, ...]:
    words: list[str] = []
    for part in _PARTS.findall(text):
        words.extend(_words_of_part(part))
    return tuple(words)


_name_words = lru_cache(maxsize=65536)(_words)


@lru_cache(maxsize=65536)
def _words_of_part(part: str) -> tuple[str, ...]:
    """One part's words: chunk texts are mostly unique, their parts repeat (R12, GND, pin)."""
    return tuple(_split_known_prefix(part.lower()))


def _split_known_prefix(word: str) -> list[str]:
    """CANH -> can h. A word the dictionary knows whole (canh is an alias) splits too when its
    head is a known word of three letters or more, so that "CAN high" meets "CANH". Two known
    words run together split apart: FUELPUMP -> fuel pump."""
    if not word.isalpha() or len(word) < 4:
        return [word]
    if word not in _KNOWN and len(word) >= 7:
        for cut in range(3, len(word) - 2):
            if word[:cut] in _KNOWN and word[cut:] in _KNOWN:
                return [word[:cut], word[cut:]]
    shortest_head = 3 if word in _KNOWN else 2
    for cut in (len(word) - 1, len(word) - 2, len(word) - 3):
        head, tail = word[:cut], word[cut:]
        if len(head) >= shortest_head and head in _KNOWN and tail in _SPLITTABLE_SUFFIXES:
            return [head, tail]
    return [word]


_TOKENS = re.compile(r"[A-Za-z0-9]+")


def spelled_out(name: str) -> list[str]:
    """The abbreviations in an identifier, spelled out from the glossary: "PUMP_EN" -> ["enable"],
    "HO2S_1" -> ["heated oxygen sensor"]. Whole tokens are looked up before their words."""
    return list(_spelled_out(name))


@lru_cache(maxsize=65536)
def _spelled_out(name: str) -> tuple[str, ...]:
    """Cached: every pin and net label asks, and a vehicle's pin names repeat (1, 2, GND, OUT)."""
    words = [*(t.lower() for t in _TOKENS.findall(name)), *identifier_words(name)]
    return tuple(dict.fromkeys(GLOSSARY[w] for w in words if w in GLOSSARY))


def readable(name: str) -> str:
    """An identifier as words: "/IGN_OUT3" -> "ign out 3"."""
    return " ".join(identifier_words(name))
