"""Which commune a report belongs to, and the former communes merged into it.

The commune comes from the report's own text ("Đảng bộ xã Mường La …"); ``data/communes.json``
may override it and lists the former units (Hát Lót, Cò Nòi → Mai Sơn) and other spellings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from index.places import read_places
from index.text import fold

_UPPER = "A-ZÀÁẠẢÃÂẦẤẬẨẪĂẰẮẶẲẴÈÉẸẺẼÊỀẾỆỂỄÌÍỊỈĨÒÓỌỎÕÔỒỐỘỔỖƠỜỚỢỞỠÙÚỤỦŨƯỪỨỰỬỮỲÝỴỶỸĐ"
_NAME = rf"[{_UPPER}][^\s,.;:()]*(?:\s+[{_UPPER}][^\s,.;:()]*){{0,2}}"
_FORMER_LIST = re.compile(rf"(?:xã|thị trấn)\s+(?P<name>{_NAME})")
@dataclass(frozen=True)
class CommuneInfo:
    name: str
    former_units: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    former_district: str | None = None
    district: str | None = None  # read from the text ("huyện Z"), or the override's former district
    province: str | None = None  # read from the text ("tỉnh Y")

    def all_names(self) -> list[str]:
        return [self.name, *self.former_units, *self.aliases]


@dataclass
class CommuneRegistry:
    """Every commune known from the index, with lookups by any of its names."""

    communes: dict[str, CommuneInfo] = field(default_factory=dict)  # by official name

    def add(self, info: CommuneInfo) -> None:
        self.communes[info.name] = info

    def names(self) -> list[str]:
        return sorted(self.communes)

    def owner_of(self, name: str) -> str | None:
        """The current commune a (possibly former) unit name belongs to."""
        key = fold(name)
        for info in self.communes.values():
            if fold(info.name) == key:
                return info.name
        for info in self.communes.values():
            if any(fold(n) == key for n in info.all_names()):
                return info.name
        return None


def load_overrides(path: Path) -> dict[str, dict]:
    """Per-file metadata from ``data/communes.json`` (missing file: no overrides)."""
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {entry["file"]: entry for entry in data.get("communes", []) if entry.get("file")}


def detect_commune(lines: list[str], file_name: str, overrides: dict[str, dict],
                   user: dict | None = None) -> CommuneInfo:
    """The report's commune: what the user set at upload, else the override, else the text's own name.

    District and province are read from the text unless the override or the user gives them.
    """
    places = read_places(lines)
    entry = {**overrides.get(file_name, {}), **(user or {})}
    name = entry.get("name") or places.commune or Path(file_name).stem.replace("-", " ").title()
    head = " ".join(lines[:400])
    former = entry.get("former_units") if "former_units" in entry else _former_units(head, name)
    return CommuneInfo(
        name=name,
        former_units=tuple(former),
        aliases=tuple(entry.get("aliases", ())),
        former_district=entry.get("former_district"),
        district=entry.get("district") or entry.get("former_district") or places.district,
        province=entry.get("province") or places.province,
    )


def _former_units(text: str, name: str) -> list[str]:
    """Former units named in a merger sentence ("sáp nhập … xã A, xã B và xã C")."""
    m = re.search(r"(sáp nhập|hợp nhất)[^.]{0,300}", text)
    if not m:
        return []
    units = [_tidy(u.group("name")) for u in _FORMER_LIST.finditer(m.group(0))]
    seen: list[str] = []
    for unit in units:
        if unit and unit not in seen and fold(unit) != fold(name):
            seen.append(unit)
    return seen


def _tidy(name: str) -> str:
    words = name.split()
    # "Mường La lần" → stop at the first lowercase word; keep "Mường La"
    kept = [w for w in words if w[:1].isupper()]
    return " ".join(kept).title() if name.isupper() else " ".join(kept)
