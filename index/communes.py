"""Which commune a report belongs to, and the former communes merged into it.

The commune comes from the report's own text ("Đảng bộ xã Mường La …"); ``data/communes.json``
may override it and lists the former units (Hát Lót, Cò Nòi → Mai Sơn) and other spellings.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from index.loaders import ORIGINALS_DIR
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


# --- the commune a user names at upload -------------------------------------------------------

USER_COMMUNE_SUFFIX = ".commune.json"
_MAX_NAME_CHARS = 60
_UNIT_PREFIX = re.compile(r"^(?:xã|phường|thị trấn|commune)\s+", re.IGNORECASE)


def clean_commune_name(name: str) -> str:
    """A commune name typed by a user, tidied ("  xã  Tân Lập " → "Tân Lập"); ValueError when unusable."""
    text = " ".join(unicodedata.normalize("NFC", str(name)).split())
    text = _UNIT_PREFIX.sub("", text).strip(" ,.;:")
    if not text or not any(ch.isalpha() for ch in text):
        raise ValueError("the commune name is empty; type the commune's name (e.g. Tân Lập) or leave the field blank")
    if len(text) > _MAX_NAME_CHARS or any(not (ch.isalnum() or ch in " -'’") for ch in text):
        raise ValueError(f"{name!r} is not a commune name (letters and spaces, at most {_MAX_NAME_CHARS} characters)")
    return text


def user_commune_path(report: Path) -> Path:
    """Where the commune named at upload is kept: beside the report's original, so removing the
    report removes it too, and outside ``*.txt`` so it is never read as a report."""
    return report.parent / ORIGINALS_DIR / f"{report.stem}{USER_COMMUNE_SUFFIX}"


def save_user_commune(report: Path, name: str | None) -> None:
    """Keep the commune the user named for ``report``; None forgets any left from an earlier file of
    the same name, so the text decides."""
    path = user_commune_path(report)
    if name is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"name": clean_commune_name(name)}, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def read_user_commune(report: Path) -> dict | None:
    """What the user set for this report at upload, or None (then the text decides)."""
    path = user_commune_path(report)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {"name": clean_commune_name(data["name"])}
    except (OSError, ValueError, TypeError, KeyError):  # a damaged file: the text decides, as without one
        return None
