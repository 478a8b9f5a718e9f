"""Make a question's text canonical before anything reads it.

Users paste questions from chat apps, PDFs and web pages. The same words can then arrive as
decomposed Unicode (NFD: "ơ" as "o" + a combining horn), with invisible characters inside a
name (zero-width joiner, soft hyphen, a BOM, bidi marks), or with a Cyrillic or Greek letter
that looks like a Latin one ("Mườnг Lа"). Each of those makes a name or a word fail to match,
so the answer changes or is refused. Normalising first makes every later reader see one text.

Look-alike letters come from Unicode's confusables table (the ``confusable_homoglyphs``
package ships it); a letter is mapped only inside a word that also holds Latin letters, so a
question written wholly in Russian or Greek stays what it is (and is refused as such).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from confusable_homoglyphs import categories, confusables

_WORD = re.compile(r"\w+", re.UNICODE)
_LATIN = "LATIN"


@lru_cache(maxsize=4096)
def normalize_question(text: str) -> str:
    """NFC, no invisible format characters, odd spaces as spaces, look-alike letters as Latin."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(_visible(c) for c in text)
    if not text.isascii():
        text = _WORD.sub(lambda m: _latinize(m.group(0)), text)
    return unicodedata.normalize("NFC", text)


def _visible(char: str) -> str:
    """Drop format characters (Unicode category Cf: ZWJ, ZWNJ, ZWSP, soft hyphen, BOM, bidi marks);
    turn other space separators (no-break, thin, ideographic space) into a plain space."""
    category = unicodedata.category(char)
    if category == "Cf":
        return ""
    if category == "Zs":
        return " "
    return char


def _latinize(word: str) -> str:
    """A mixed-script word with its non-Latin look-alike letters replaced by their Latin twins."""
    scripts = {_script(c) for c in word if c.isalpha()}
    if _LATIN not in scripts or len(scripts) < 2:
        return word
    return "".join(_latin_twin(c) if c.isalpha() and _script(c) != _LATIN else c for c in word)


@lru_cache(maxsize=2048)
def _script(char: str) -> str:
    return categories.alias(char)


@lru_cache(maxsize=2048)
def _latin_twin(char: str) -> str:
    """The Latin letter a character is confusable with (Unicode confusables), else the character."""
    found = confusables.is_confusable(char, greedy=True, preferred_aliases=["latin"])
    for entry in found or ():
        for glyph in entry["homoglyphs"]:
            twin = glyph["c"]
            if twin.isascii() and twin.isalpha() and len(twin) == 1:
                return twin
    return char
