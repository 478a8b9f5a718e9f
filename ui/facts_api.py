"""The ``/facts`` API: the fact records of ``baocao facts`` (index/facts.py), through the running app.

    Client("http://127.0.0.1:7860/").predict("2020-2025", "Mai Sơn", "", api_name="/facts")
"""

from __future__ import annotations

from ui.state import HOLDER

PERIODS = ("2025-2030", "2020-2025", "profile")


def facts(period: str | None = None, commune: str | None = None, indicator: str | None = None) -> dict:
    """Fact records (targets, results, profile figures), each cited; the JSON contract of `baocao facts --format json`.

    period: "2025-2030", "2020-2025", "profile" or empty (all). commune: any name of a commune, former ones
    included, or empty/"All". indicator: an indicator_key (data/indicators.tsv) or empty.
    Returns {"status": "ok"|"error", "message": str, "count": int, "facts": [records]}.
    """
    assistant = HOLDER.get()
    if assistant is None:
        return _error(HOLDER.busy_message)
    period, commune, indicator = (_blank(x) for x in (period, commune, indicator))
    if period is not None and period not in PERIODS:
        return _error(f"period must be one of {', '.join(PERIODS)} (or empty), not {period!r}")
    if commune is not None and not assistant.registry.owner_of(commune):
        return _error(f"no report for commune {commune!r}; known: {', '.join(assistant.registry.names())}")
    records = assistant.facts(period, commune, indicator)
    return {"status": "ok", "message": "", "count": len(records), "facts": records}


def _blank(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip() or value.strip().lower() == "all":
        return None
    return value.strip()


def _error(message: str) -> dict:
    return {"status": "error", "message": message, "count": 0, "facts": []}
