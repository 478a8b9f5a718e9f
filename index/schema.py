"""The passage record every later stage speaks: what a stretch of a report says and where."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

PERIOD_REVIEW = "2020-2025"
PERIOD_PLAN = "2025-2030"

KIND_PROSE = "prose"
KIND_TARGET = "target"  # one numbered item of the 2025-2030 list "Các chỉ tiêu chủ yếu"
KIND_RESULT_ITEM = "result_item"  # one numbered item of a 2020-2025 target-vs-result list
KIND_TABLE_ROW = "table_row"  # one rebuilt row of a flattened appendix table
KIND_FOOTNOTE = "footnote"


@dataclass(frozen=True)
class Passage:
    """A citable stretch of one report.

    ``line_start``/``line_end`` are 1-based, inclusive line numbers of the report file as
    shipped, so a citation can always be checked against the file. ``text`` is the cleaned
    text (NFC, joined lines, footnote markers split off figures).
    """

    file: str
    commune: str
    text: str
    line_start: int
    line_end: int
    section: str = ""
    period: str | None = None
    kind: str = KIND_PROSE
    unit: str | None = None  # the former commune a passage is about, when the report says
    number: str | None = None  # item number in its list, e.g. "7" for "(7)-"
    group: str | None = None  # target group, e.g. "2.1. Về kinh tế"

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line_start}-{self.line_end}:{self.content_hash[:10]}"

    @property
    def content_hash(self) -> str:
        """Hash of what the embedder sees: unchanged text is never embedded twice."""
        return hashlib.sha256(self.embedding_text.encode("utf-8")).hexdigest()

    @property
    def embedding_text(self) -> str:
        """Section context helps the embedder: "che phủ rừng đạt 51,51%" alone lacks the period.

        Only the last two titles: the full path is long, and embedding time grows with length.
        """
        titles = [t.strip() for t in self.section.split("›")][-2:] if self.section else []
        head = ". ".join([self.commune, *titles]).strip(". ")
        return f"{head}\n{self.text}" if head else self.text

    def to_metadata(self) -> dict[str, str | int]:
        """Flat metadata for Chroma (no None values allowed there)."""
        d = asdict(self)
        d.pop("text")
        return {k: ("" if v is None else v) for k, v in d.items()}

    @classmethod
    def from_metadata(cls, text: str, meta: dict) -> Passage:
        fields = {k: (None if v == "" else v) for k, v in meta.items() if k in cls.__dataclass_fields__}
        fields["section"] = fields.get("section") or ""
        return cls(text=text, **fields)
