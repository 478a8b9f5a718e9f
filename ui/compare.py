"""The Compare tab: one indicator's 2025-2030 target across communes, as a table and a chart.

Target records are matched to the indicator by its Vietnamese phrasings (the glossary turns
"forest cover" into "tỷ lệ che phủ rừng", …), on diacritic-folded text, exact first and fuzzy
(rapidfuzz) second. The figure is the first one written *after* the matched words, because a
record often holds several ("trồng mới 03 ha; … độ che phủ rừng đạt 30,2%"). A commune with no
matching record is a "missing" row and stays out of the chart; it is never plotted as zero.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import gradio as gr
import pandas as pd
from rapidfuzz import fuzz

from assistant.glossary import load_glossary
from index.targets import UNITS
from index.text import FIGURE, fold, parse_vn_number
from ui.state import HOLDER

MIN_SCORE = 88  # partial-ratio below this is a different indicator
MIN_COMMUNES = 2  # a topic offered in the dropdown must be comparable
MIN_PHRASE = 8  # shorter Vietnamese phrasings ("tỷ lệ", "đạt") are too generic to name a topic
DEFAULT_TOPIC = "forest cover"
NO_FIGURE = "(no figure)"  # the target exists but is qualitative: cited, not charted
COLUMNS = ["commune", "figure", "number", "unit", "citation", "text"]
# Glossary rows that are question scaffolding, not indicators ("đạt … mới", "hằng năm", "chỉ tiêu").
GENERIC = frozenset({"new", "per year", "target", "households", "average", "term", "area", "by 2030", "rate"})
_YEAR = re.compile(r"(19|20)\d\d")
_UNIT_AFTER = re.compile(r"^\s*(" + "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True)) + r")\b",
                         re.IGNORECASE)


@dataclass(frozen=True)
class Topic:
    label: str  # "forest cover"
    phrases: tuple[str, ...]  # folded Vietnamese phrasings


@lru_cache(maxsize=4)
def glossary_topics(path: Path) -> tuple[Topic, ...]:
    """Each glossary row as a topic named by its first English phrase."""
    topics = []
    if path.exists():
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t"):
                english = (row.get("en") or "").split("|")[0].strip()
                phrases = tuple(fold(v.strip()) for v in (row.get("vi") or "").split("|") if v.strip())
                if english and phrases:
                    topics.append(Topic(english, phrases))
    return tuple(topics)


def topic_choices(records: list[dict], glossary_path: Path) -> list[str]:
    """Topics that name the indicator of targets in at least two communes.

    Each record counts for the one topic its indicator (the words before the figure) names first,
    longest phrasing on a tie: "Thu nhập bình quân…" is income, not "average"; "Tỷ lệ che phủ rừng
    … bao gồm diện tích cây ăn quả" is forest cover, not fruit trees.
    """
    topics = glossary_topics(glossary_path)
    communes: dict[str, set[str]] = {}
    for r in records:
        indicator = fold(_nfc(r["indicator"]))
        found = [(-indicator.find(p), len(p), t.label) for t in topics for p in t.phrases
                 if len(p) >= MIN_PHRASE and " " in p and p in indicator]
        if found:
            communes.setdefault(max(found)[2], set()).add(r["commune"])
    return sorted(label for label, cs in communes.items()
                  if len(cs) >= MIN_COMMUNES and label not in GENERIC and not any(ch.isdigit() for ch in label))


def phrases_for(keyword: str, glossary_path: Path) -> list[str]:
    """The folded phrasings to look for: the glossary's for an English topic, plus the keyword itself."""
    phrases = [fold(keyword.strip())]
    for topic in glossary_topics(glossary_path):
        if fold(keyword.strip()) == fold(topic.label):
            phrases += topic.phrases
    for concept in load_glossary(glossary_path).concepts(keyword):
        phrases += concept.phrases
    return [p for p in dict.fromkeys(phrases) if len(p) >= 3]


def match(record: dict, phrases: list[str]) -> tuple[float, int]:
    """How well a record's text names the indicator, and where its name ends (offset into the NFC text).

    The score prefers the longest phrase found (the most specific), the offset the earliest one:
    "Thu nhập bình quân đạt 36,5 triệu đồng/người/năm (tăng 70% …)" must give 36,5, not 70%.
    """
    text = fold(_nfc(record["text"]))
    exact = [(len(p), text.find(p) + len(p)) for p in phrases if p in text]
    if exact:
        return 100 + max(n for n, _ in exact) / 100, min(end for _, end in exact)
    best = (0.0, 0)
    for p in (p for p in phrases if len(p) >= 8):
        al = fuzz.partial_ratio_alignment(p, text, score_cutoff=MIN_SCORE)
        if al is not None:
            best = max(best, (al.score, al.dest_end))
    return best


def figure_after(text: str, offset: int) -> tuple[str | None, str]:
    """The first figure at or after ``offset`` that is not a year, and the unit written with it."""
    text = _nfc(text)
    for m in FIGURE.finditer(text):
        figure = m.group(0).strip()
        if m.start() < offset or all(_YEAR.fullmatch(part) for part in re.split(r"\s*[-–]\s*", figure)):
            continue
        if figure.endswith("%"):
            return figure, "%"
        unit = _UNIT_AFTER.match(text[m.end():])
        return figure, unit.group(1) if unit else ""
    return None, ""


def parse_figure(figure: str | None) -> float | None:
    """A figure as a number: "51,51%" → 51.51, "17.732" → 17732, a range "8-10%" → its first bound."""
    if not figure:
        return None
    first = re.split(r"\s*[-–]\s*", figure.replace("%", "").strip())[0]
    return parse_vn_number(first)


def compare_rows(records: list[dict], keyword: str, communes: list[str], glossary_path: Path) -> list[dict]:
    """One row per chosen commune: its best-matching target's figure, or a "missing" row."""
    phrases = phrases_for(keyword, glossary_path)
    rows = []
    for commune in communes:
        scored = [(match(r, phrases), r) for r in records if r["commune"] == commune]
        scored = [(s, r) for s, r in scored if s[0] >= MIN_SCORE]
        if not scored:
            rows.append(dict(zip(COLUMNS, [commune, "missing", None, "", "", ""], strict=True)))
            continue
        (_, offset), record = max(scored, key=lambda sr: sr[0][0])
        figure, unit = figure_after(record["text"], offset)
        lines = f"{record['line_start']}" + (f"-{record['line_end']}" if record["line_end"] != record["line_start"]
                                              else "")
        rows.append({"commune": commune, "figure": figure or NO_FIGURE, "number": parse_figure(figure),
                     "unit": unit, "citation": f"{record['file']}:{lines}", "text": _nfc(record["text"])})
    return rows


def chart_frame(rows: list[dict]) -> tuple[pd.DataFrame, str]:
    """The chartable rows (a number, the most common unit) and the unit; missing rows are left out."""
    valued = [r for r in rows if r["number"] is not None]
    if not valued:
        return _empty_chart(), ""
    unit = Counter(r["unit"] for r in valued).most_common(1)[0][0]
    same = [r for r in valued if r["unit"] == unit]
    return pd.DataFrame({"commune": [r["commune"] for r in same], "value": [r["number"] for r in same]}), unit


def _nfc(text: str) -> str:
    """NFC keeps one character per letter, so offsets in folded text are offsets in the original."""
    return unicodedata.normalize("NFC", text)


# --- the tab ---------------------------------------------------------------------------------


def run_compare(keyword: str, communes: list[str]) -> tuple:
    """The table, chart and a one-line note for the chosen indicator and communes."""
    assistant = HOLDER.get()
    if assistant is None:
        return _empty_table(), _empty_chart(), HOLDER.busy_message
    if not (keyword or "").strip():
        return _empty_table(), _empty_chart(), "Choose an indicator or type a keyword (e.g. che phủ rừng)."
    chosen = communes or assistant.registry.names()
    rows = compare_rows(assistant.targets(), keyword, chosen, HOLDER.settings.glossary_path)
    frame, unit = chart_frame(rows)
    found = sum(r["figure"] != "missing" for r in rows)
    note = f"**{keyword}** — 2025-2030 targets: found in {found} of {len(rows)} communes."
    if len(frame):
        note += f" Chart unit: **{unit or 'as written'}**"
        note += " (figures in other units are in the table only)." if len(frame) < found else "."
    # A bare DataFrame: returning gr.BarPlot(...) as an update draws an empty chart in Gradio 6.31.
    return pd.DataFrame(rows, columns=COLUMNS), frame, note


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame(columns=COLUMNS)


def _empty_chart() -> pd.DataFrame:
    """Typed columns: an empty float "commune" column would make the chart's x axis numeric for good."""
    return pd.DataFrame({"commune": pd.Series([], dtype="str"), "value": pd.Series([], dtype="float")})


def build_compare_tab(records: list[dict], communes: list[str]) -> dict[str, gr.components.Component]:
    """Lay out the compare tab: indicator, communes, button → note, table, chart."""
    gr.Markdown("Pick an indicator (or type a Vietnamese/English keyword) to line up the communes' 2025-2030 "
                "targets. A commune without that target shows as *missing*, never as zero.")
    with gr.Row(elem_id="compare-controls"):
        topic = gr.Dropdown(topic_choices(records, HOLDER.settings.glossary_path), value=DEFAULT_TOPIC,
                            allow_custom_value=True, label="Indicator", scale=2, min_width=220,
                            elem_id="compare-topic")
        chosen = gr.CheckboxGroup(communes, value=communes, label="Communes", scale=3, min_width=260,
                                  elem_id="compare-communes")
    go = gr.Button("Compare", variant="primary", elem_id="compare-btn")
    note = gr.Markdown(elem_id="compare-note")
    table = gr.Dataframe(_empty_table(), label="Targets", wrap=True, interactive=False, elem_id="compare-table",
                         column_widths=["120px", "90px", "80px", "60px", "170px", "580px"],
                         datatype=["str", "str", "number", "str", "str", "str"])
    chart = gr.BarPlot(_empty_chart(), x="commune", y="value", label="2025-2030 target (parsed figures)",
                       height=300, y_lim=[0, None], x_title="", y_title="Target", x_label_angle=-30,
                       elem_id="compare-chart")
    go.click(run_compare, [topic, chosen], [table, chart, note], api_visibility="private")
    return {"communes": chosen, "topic": topic}


def refreshed_topics() -> gr.Dropdown:
    """The indicator choices for the reports indexed now (after an upload, a removal, a first build)."""
    assistant = HOLDER.get()
    records = assistant.targets() if assistant else []
    return gr.Dropdown(choices=topic_choices(records, HOLDER.settings.glossary_path))
