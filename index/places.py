"""Commune, district and province as a document names them in its own text.

A Vietnamese place name is a short run of capitalised syllables ("Tân Lập", "Mường La"), so a
name is read up to the end of its line, a punctuation mark, a lowercase word, or, in an
all-capitals title, a word that never belongs to a name ("LẦN", "NHIỆM", "TỈNH"). A name stops
at the line end: a report's line break, or a headline without a full stop, is where the next
sentence starts ("xã Tân Lập" / "Sáng 12/7, …" is not "Tân Lập Sáng").

Different phrasings carry different weight: "Đảng bộ xã X" and "Đại hội … xã X lần thứ I" name
the document's own commune, while a bare "xã X, tỉnh Y" may be a neighbour. Where one
occurrence runs a syllable longer than the rest, the others outvote it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

_UPPER = "A-ZÀÁẠẢÃÂẦẤẬẨẪĂẰẮẶẲẴÈÉẸẺẼÊỀẾỆỂỄÌÍỊỈĨÒÓỌỎÕÔỒỐỘỔỖƠỜỚỢỞỠÙÚỤỦŨƯỪỨỰỬỮỲÝỴỶỸĐ"
_SYLLABLE = rf"[{_UPPER}][^\s,.;:()!?\"“”/\-–—]*"
_NAME = rf"(?P<name>{_SYLLABLE}(?:[ \t]+{_SYLLABLE}){{0,3}})"
_UNIT = r"(?<!\w)(?i:xã|phường)"
_HEAD_LINES = 15  # a title stands in the first lines
_MAX_SYLLABLES = 4

# (pattern, weight): how surely the phrase names the document's own commune.
_COMMUNE_PATTERNS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(rf"(?i:đảng bộ)\s+{_UNIT}\s+{_NAME}"), 3),
    (re.compile(rf"(?i:đại hội)[^.\n]{{0,80}}?{_UNIT}\s+{_NAME}\s*,?\s*(?i:lần thứ)"), 3),
)
# "xã X, huyện Z, tỉnh Y": the address of one commune, so its district and province are surely its own.
_ADDRESS = re.compile(
    rf"{_UNIT}\s+{_NAME}\s*,\s*(?:(?i:huyện)\s+{_NAME.replace('name', 'district')}\s*,\s*)?"
    rf"(?i:tỉnh)\s+{_NAME.replace('name', 'province')}"
)
_TITLE_PATTERN = re.compile(rf"{_UNIT}\s+{_NAME}")
# "huyện Z", and the province written after it: "huyện Xiềng Khọ, tỉnh Hủa Phăn" is over the border.
_DISTRICT = re.compile(rf"(?i:huyện)\s+{_NAME}(?:\s*,\s*(?i:tỉnh)\s+{_NAME.replace('name', 'province')})?")
_PROVINCE = re.compile(rf"(?i:tỉnh)\s+{_NAME}")
# Words of an all-capitals title that follow a name but are never part of one.
_CAPS_STOPS = frozenset(
    "LẦN THỨ NHIỆM KỲ KHÓA KHOÁ TỈNH HUYỆN XÃ PHƯỜNG TẠI VÀ CỦA NĂM GIAI ĐOẠN BÁO CÁO NGHỊ QUYẾT VỀ "
    "TRONG ĐÃ ĐẾN LÀ CÓ ĐẢNG BỘ ĐẠI HỘI".split()
)
_ROMAN = re.compile(r"^[IVXLC]+$")


@dataclass(frozen=True)
class Places:
    commune: str | None = None
    district: str | None = None
    province: str | None = None


def read_places(lines: list[str]) -> Places:
    """The commune, district and province a document names most surely (None when it names none)."""
    communes: Counter[tuple[str, ...]] = Counter()
    districts: Counter[tuple[str, ...]] = Counter()
    provinces: Counter[tuple[str, ...]] = Counter()
    addresses: list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = []
    districts_in: list[tuple[tuple[str, ...], tuple[str, ...]]] = []  # (district, province written after it)
    for no, raw in enumerate(lines[:600]):
        line = unicodedata.normalize("NFC", raw)
        for pattern, weight in _COMMUNE_PATTERNS:
            _count(communes, pattern, line, weight)
        addresses.extend(_addresses(line))
        if no < _HEAD_LINES and _is_title(line):
            _count(communes, _TITLE_PATTERN, line, 2)
        districts_in.extend(_districts(line))
        _count(provinces, _PROVINCE, line, 1)
    for name, _, _ in addresses:
        communes[name] += 2
    commune = _best(communes)
    for name, district, province in addresses:  # the chosen commune's own address outweighs neighbours
        if " ".join(name) == commune:
            if district:
                districts[district] += 5
            provinces[province] += 5
    province = _best(provinces)
    for district, its_province in districts_in:  # a district of another province is a neighbour's
        if not its_province or " ".join(its_province) == province:
            districts[district] += 1
    return Places(commune, _best(districts), province)


def _districts(line: str) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    out = []
    for m in _DISTRICT.finditer(line):
        district = name_syllables(m.group("name"))
        if district:
            out.append((district, name_syllables(m.group("province")) if m.group("province") else ()))
    return out


def _addresses(line: str) -> list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]:
    out = []
    for m in _ADDRESS.finditer(line):
        name, province = name_syllables(m.group("name")), name_syllables(m.group("province"))
        district = name_syllables(m.group("district")) if m.group("district") else ()
        if name and province:
            out.append((name, district, province))
    return out


def _is_title(line: str) -> bool:
    """A short all-capitals line ("ĐẢNG BỘ XÃ TÂN LẬP") or a headline without a full stop."""
    text = line.strip()
    return bool(text) and len(text) < 160 and (text.isupper() or not text.endswith("."))


def _count(counter: Counter[tuple[str, ...]], pattern: re.Pattern[str], line: str, weight: int) -> None:
    for m in pattern.finditer(line):
        name = name_syllables(m.group("name"))
        if name:
            counter[name] += weight


def name_syllables(text: str) -> tuple[str, ...]:
    """The capitalised syllables that make the name, title-cased when written in capitals."""
    out: list[str] = []
    for word in text.split():
        caps = word.isupper()
        if caps and out and (word in _CAPS_STOPS or _ROMAN.match(word)):
            break
        if caps and not out and word in _CAPS_STOPS:
            return ()
        out.append(word.title() if caps and len(word) > 1 else word)
        if len(out) == _MAX_SYLLABLES:
            break
    return tuple(out)


def _best(counter: Counter[tuple[str, ...]]) -> str | None:
    """The name most occurrences agree on, syllable by syllable.

    Start from the best supported first syllable and add the next one while at least half of
    the occurrences so far continue with it: "Tân Lập" ×5 and "Tân Lập Sáng" ×1 give "Tân Lập".
    """
    counter = Counter({name: weight for name, weight in counter.items() if name and weight > 0})
    if not counter:
        return None
    support: Counter[tuple[str, ...]] = Counter()
    for name, weight in counter.items():
        for end in range(1, len(name) + 1):
            support[name[:end]] += weight
    chosen = max((p for p in support if len(p) == 1), key=lambda p: support[p])
    while True:
        longer = [p for p in support if len(p) == len(chosen) + 1 and p[:-1] == chosen]
        if not longer:
            break
        best = max(longer, key=lambda p: support[p])
        if support[best] * 2 < support[chosen]:
            break
        chosen = best
    return " ".join(chosen)
