"""The answer record: the stable JSON contract of ``baocao ask --json`` and the app's API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

STATUS_ANSWERED = "answered"
STATUS_NOT_FOUND = "not_found"
STATUS_ERROR = "error"  # the question itself was unusable (empty, too long, not text)


@dataclass
class Citation:
    """One cited passage; ``n`` is the number used as ``[n]`` in the answer text."""

    n: int
    file: str
    line_start: int
    line_end: int
    section: str
    text: str
    commune: str = ""
    period: str | None = None
    figures: list[str] = field(default_factory=list)  # the figures the answer took from it

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class TableRow:
    """One commune's row in a comparison."""

    commune: str
    figure: str | None  # None: the report holds no such target
    period: str | None
    text: str = ""
    citation: int | None = None  # index into Answer.citations ([n])


@dataclass
class Answer:
    status: str
    answer: str
    citations: list[Citation] = field(default_factory=list)
    communes: list[str] = field(default_factory=list)
    period: str | None = None
    language: str = "en"
    latency_ms: float = 0.0
    mode: str = "extractive"
    table: list[TableRow] | None = None
    question: str = ""  # the standalone question actually answered (after follow-up resolution)
    note: str = ""  # why an LLM answer was not used (mode "extractive-fallback"); in JSON only when set
    confidence: float | None = None  # the answer model's probability for the window(s) answered from

    def to_json(self, item_id: str | None = None) -> dict:
        out: dict = {"id": item_id}
        out.update(
            status=self.status,
            answer=self.answer,
            citations=[
                {k: v for k, v in c.to_json().items() if k in CITATION_CONTRACT_KEYS or k == "n"}
                | {"commune": c.commune, "period": c.period}
                for c in self.citations
            ],
            communes=self.communes,
            period=self.period,
            latency_ms=round(self.latency_ms, 1),
            language=self.language,
            mode=self.mode,
            resolved_question=self.question,
        )
        if self.note:
            out["note"] = self.note
        if self.confidence is not None:
            out["confidence"] = round(self.confidence, 3)
        if self.table is not None:
            out["table"] = [asdict(r) for r in self.table]
        return out


CITATION_CONTRACT_KEYS = ("file", "line_start", "line_end", "section", "text")
