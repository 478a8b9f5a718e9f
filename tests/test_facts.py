"""Fact records of the real reports (index/facts.py): every kind of source, values, keys, citations.

The records are built here from the real reports with the real passage builder (what
``baocao index`` stores), so a test always checks the code as it is, not an older index.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

import pytest

from baocao.config import PROJECT_ROOT, Settings
from index.build import _all_passages, build_index, current_manifest
from index.cleaning import clean_lines
from index.lexicon import load_lexicon
from index.loaders import list_reports
from index.reader import IndexUnavailable, open_index

REPORTS = PROJECT_ROOT / "data" / "reports"
COMMUNES = {"Mường La", "Bó Sinh", "Chiềng Hặc", "Mai Sơn", "Phiêng Pằn"}
SCHEMA = {"id", "commune", "unit", "period", "indicator", "indicator_en", "indicator_key", "values", "plan",
          "ratio", "assessment", "source", "file", "line_start", "line_end", "section", "text"}
VALUE_SCHEMA = {"number", "high", "text", "unit", "qualifier"}


@pytest.fixture(scope="module")
def facts() -> list[dict]:
    settings = Settings(data_dir=PROJECT_ROOT / "data")
    _, _, records = _all_passages(settings, list_reports(settings.reports_dir))
    return [r.to_json() for r in records]


@pytest.fixture(scope="module")
def raw() -> dict[str, list[str]]:
    return {p.name: p.read_text(encoding="utf-8").splitlines() for p in REPORTS.glob("*.txt")}


def at(facts: list[dict], file: str, line: int, **where) -> list[dict]:
    """The records of ``file`` whose cited range holds ``line`` (and match ``where``)."""
    return [f for f in facts if f["file"] == file and f["line_start"] <= line <= f["line_end"]
            and all(f[k] == v for k, v in where.items())]


def numbers(record: dict) -> list[float]:
    return [v["number"] for v in record["values"]]


# --- the contract ----------------------------------------------------------------------------------
def test_every_record_has_the_documented_shape(facts) -> None:
    assert len(facts) > 1000
    for f in facts:
        assert set(f) == SCHEMA, f["id"]
        assert f["period"] in ("2025-2030", "2020-2025", "profile")
        assert f["source"] in ("target_list", "task_section", "prose", "footnote", "table", "profile")
        assert f["values"] and all(set(v) == VALUE_SCHEMA for v in f["values"]), f["id"]
        assert all(v["qualifier"] in (None, "at_least", "about", "below", "range", "per_year", "zero")
                   for v in f["values"])
        assert f["assessment"] in (None, "đạt", "vượt", "chưa đạt", "không đạt")
        assert f["plan"] is None or set(f["plan"]) == {"number", "text", "unit"}
        assert (f["indicator_en"] is None) == (f["indicator_key"] is None)
    assert len({f["id"] for f in facts}) == len(facts)
    assert {f["commune"] for f in facts} == COMMUNES


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text).replace("\u00a0", " "))


def test_every_record_text_stands_in_its_cited_lines(facts, raw) -> None:
    """The text is read, whitespace aside, from exactly its line range of the file as shipped (its
    lines cleaned: NFC, footnote markers off the figures): it starts on the first cited line and
    ends on the last. Footnote bodies dumped inside a paragraph are skipped, as a reader does."""
    cleaned = {name: {ln.no: ln for ln in clean_lines(lines)} for name, lines in raw.items()}
    for f in facts:
        lines = cleaned[f["file"]]
        assert 1 <= f["line_start"] <= f["line_end"] <= len(lines), f["id"]
        role = lines[f["line_start"]].role
        rows = [_flat(lines[no].text) for no in range(f["line_start"], f["line_end"] + 1)
                if lines[no].role == role]
        text = _flat(f["text"])
        assert text and text in "".join(rows), f"{f['id']}: {f['text']!r} not in its lines"
        if len(rows) > 1:  # a tight range: without its first or its last line the text is not there
            assert text not in "".join(rows[1:]) and text not in "".join(rows[:-1]), f"{f['id']}: range too wide"
        for v in f["values"]:
            assert _flat(v["text"]) and _flat(v["text"]) in text, f"{f['id']}: {v['text']}"


# --- 2025-2030 -------------------------------------------------------------------------------------
def test_the_numbered_target_list_is_folded_in(facts, raw) -> None:
    forest = at(facts, "muong-la.txt", 884, source="target_list", indicator_key="forest_cover")
    assert [numbers(f) for f in forest] == [[51.51]]
    value = forest[0]["values"][0]
    assert (value["text"], value["unit"], value["qualifier"]) == ("51,51% trở lên", "%", "at_least")
    assert forest[0]["period"] == "2025-2030" and "51,51%" in raw["muong-la.txt"][883]
    growth = at(facts, "muong-la.txt", 863, source="target_list")[0]["values"][0]
    assert (growth["number"], growth["high"], growth["qualifier"]) == (8.0, 10.0, "range")
    for commune in COMMUNES:  # every report's main list gives records
        assert sum(f["commune"] == commune and f["source"] == "target_list" for f in facts) >= 20, commune


def test_targets_inside_task_sections_are_records(facts, raw) -> None:
    """"Duy trì độ che phủ rừng 54,6%" stands in a task section of Chiềng Hặc, not in its target list."""
    line = next(i for i, t in enumerate(raw["chieng-hac.txt"], 1) if "Duy trì độ che phủ rừng" in t and "54,6%" in t)
    found = at(facts, "chieng-hac.txt", line, source="task_section", indicator_key="forest_cover")
    assert [numbers(f) for f in found] == [[54.6]] and found[0]["period"] == "2025-2030"
    by_commune = {f["commune"] for f in facts if f["source"] == "task_section"}
    assert by_commune == COMMUNES


def test_zero_spelled_in_words_is_a_value(facts, raw) -> None:
    for file in ("muong-la.txt", "mai-son.txt"):
        zeros = [f for f in facts if f["file"] == file and f["period"] == "2025-2030"
                 and any(v["qualifier"] == "zero" for v in f["values"])]
        assert zeros, file
        record = next(f for f in zeros if f["indicator_key"] == "poverty_rate")
        value = next(v for v in record["values"] if v["qualifier"] == "zero")
        assert value["number"] == 0 and value["text"].startswith("không còn hộ nghèo")
        assert "không còn" in " ".join(raw[file][record["line_start"] - 1: record["line_end"]])


def test_a_sentence_with_several_figures_gives_one_record_per_sub_indicator(facts, raw) -> None:
    line = next(i for i, t in enumerate(raw["phieng-pan.txt"], 1) if "đàn Bò 7.210 con" in t)
    herd = {f["indicator_key"]: numbers(f) for f in at(facts, "phieng-pan.txt", line, source="target_list")}
    assert herd["buffalo_herd"] == [3550] and herd["cattle_herd"] == [7210]
    assert herd["goat_herd"] == [6180] and herd["pig_herd"] == [10900]


# --- 2020-2025 results -----------------------------------------------------------------------------
def test_a_result_in_prose(facts) -> None:
    found = at(facts, "chieng-hac.txt", 137, source="prose", indicator_key="forest_cover")
    assert [numbers(f) for f in found] == [[54.57]] and found[0]["period"] == "2020-2025"


def test_a_footnote_gives_one_record_per_former_commune(facts) -> None:
    """Footnote 2 of Chiềng Hặc: "(1) Xã Chiềng Hặc: 54,85%. (2) Xã Tú Nang: 48,86%. (3) Xã Mường Lựm 60%." —
    the indicator comes from the sentence the footnote marker follows (forest cover)."""
    found = at(facts, "chieng-hac.txt", 167, source="footnote")
    assert {f["unit"]: numbers(f) for f in found} == {"Chiềng Hặc": [54.85], "Tú Nang": [48.86], "Mường Lựm": [60]}
    assert {f["indicator_key"] for f in found} == {"forest_cover"}


def test_prose_per_former_commune(facts, raw) -> None:
    line = next(i for i, t in enumerate(raw["chieng-hac.txt"], 1) if "48.552 triệu đồng" in t)
    credit = {f["unit"]: numbers(f) for f in at(facts, "chieng-hac.txt", line, source="prose")
              if f["values"][0]["unit"] == "triệu đồng"}
    assert credit["Mường Lựm"] == [48552] and credit["Chiềng Hặc"] == [25748]
    near_poor = [f for f in facts if f["file"] == "mai-son.txt" and f["indicator_key"] == "near_poverty_rate"]
    assert {f["unit"] for f in near_poor} >= {"Hát Lót", "Cò Nòi"}


def test_a_table_row_with_plan_result_and_assessment(facts) -> None:
    """Bó Sinh's appendix: "Tiêu chí xây dựng nông thôn mới | Tiêu chí | 15 | 12 | 80 | Không đạt"."""
    rows = [f for f in facts if f["file"] == "bo-sinh.txt" and f["source"] == "table"
            and f["indicator_key"] == "new_rural_criteria" and f["unit"] == "Bó Sinh"]
    assert len(rows) == 1
    row = rows[0]
    assert numbers(row) == [12] and row["plan"]["number"] == 15 and row["ratio"] == 80
    assert row["assessment"] == "không đạt" and row["period"] == "2020-2025"
    table = [f for f in facts if f["source"] == "table"]
    assert len(table) >= 60 and {f["unit"] for f in table} == {"Bó Sinh", "Pú Bẩu", "Chiềng En"}
    assessed = [f for f in table if f["assessment"]]
    assert len(assessed) >= 50 and all(f["plan"] for f in assessed)


def test_a_result_item_measured_against_its_target(facts, raw) -> None:
    """"2. Diện tích cây ăn quả: 562/562ha, đạt 100% so với Nghị quyết đại hội." → result, plan, ratio."""
    line = next(i for i, t in enumerate(raw["bo-sinh.txt"], 1) if "562/562ha" in t)
    found = at(facts, "bo-sinh.txt", line, source="prose")
    assert [(numbers(f), f["plan"]["number"], f["ratio"]) for f in found] == [([562], 562, 100)]


# --- profile ---------------------------------------------------------------------------------------
def test_profile_facts(facts, raw) -> None:
    profile = defaultdict(dict)
    for f in facts:
        if f["period"] == "profile" and f["indicator_key"]:
            profile[f["commune"]].setdefault(f["indicator_key"], numbers(f)[0])
    assert profile["Mai Sơn"]["area"] == 164.40 and profile["Mai Sơn"]["population"] == 52361
    assert profile["Chiềng Hặc"]["area"] == 239.91 and profile["Chiềng Hặc"]["party_organisations"] == 56
    assert profile["Chiềng Hặc"]["party_members"] == 1247
    assert {c for c, keys in profile.items() if "area" in keys} == COMMUNES - {"Mường La"}  # it gives none
    assert len({c for c, keys in profile.items() if "party_organisations" in keys}) >= 4
    assert all(f["source"] == "profile" for f in facts if f["period"] == "profile")


# --- alignment across communes ---------------------------------------------------------------------
def test_forest_cover_has_one_key_in_all_five_reports(facts) -> None:
    keyed = {f["commune"] for f in facts if f["indicator_key"] == "forest_cover" and f["period"] == "2025-2030"}
    assert keyed == COMMUNES
    assert {f["indicator_en"] for f in facts if f["indicator_key"] == "forest_cover"} == {"Forest cover rate"}
    for key in ("health_insurance", "trained_labour", "poverty_rate", "budget_revenue"):
        assert len({f["commune"] for f in facts if f["indicator_key"] == key}) == 5, key


def test_indicators_that_differ_by_a_qualifier_never_share_a_key(facts) -> None:
    lexicon = load_lexicon(PROJECT_ROOT / "data" / "indicators.tsv", PROJECT_ROOT / "data" / "indicator_qualifiers.txt")
    assert lexicon.match("Tỷ lệ hộ nghèo") == "poverty_rate"
    assert lexicon.match("Tỷ lệ hộ cận nghèo") == "near_poverty_rate"
    assert lexicon.match("Tỷ lệ hộ nghèo, hộ cận nghèo đa chiều") is None  # two indicators side by side
    assert lexicon.match("Tỷ lệ dân số tham gia bảo hiểm y tế") == "health_insurance"
    assert lexicon.match("tỷ lệ lao động tham gia Bảo hiểm xã hội") == "social_insurance"
    assert lexicon.match("tỷ lệ dân số tham gia bảo hiểm xã hội tự nguyện") == "voluntary_social_insurance"
    assert lexicon.match("Diện tích cây ăn quả") == "fruit_area" and lexicon.match("sản lượng quả") == "fruit_output"
    assert lexicon.match("Diện tích, sản lượng cây ăn quả") is None
    assert lexicon.match("tổ chức cơ sở đảng", "%") == "party_org_rating"
    assert lexicon.match("Đảng bộ có", "tổ chức đảng") == "party_organisations"
    poor = {f["indicator_key"] for f in facts if re.search(r"(?i)\bhộ nghèo\b", f["indicator"])
            and "cận" not in f["indicator"]}
    near = {f["indicator_key"] for f in facts if re.search(r"(?i)cận nghèo", f["indicator"])}
    assert "poverty_rate" in poor and "near_poverty_rate" not in poor
    assert "near_poverty_rate" in near and "poverty_rate" not in near


# --- through the index, the assistant, a user's own reports ----------------------------------------
def test_the_assistant_serves_the_stored_facts(assistant) -> None:
    every = assistant.facts()
    assert every == assistant.index.facts and len(every) > 1000
    forest = assistant.facts(period="2025-2030", indicator="forest_cover")
    assert {f["commune"] for f in forest} == COMMUNES
    assert assistant.facts(commune="Ít Ong") == assistant.facts(commune="Mường La")  # a former commune
    assert assistant.facts(commune="Hà Nội") == []
    assert {f["period"] for f in assistant.facts(period="profile")} == {"profile"}


OWN_REPORT = """BÁO CÁO CHÍNH TRỊ
CỦA BAN CHẤP HÀNH ĐẢNG BỘ XÃ NẬM LẠNH KHÓA I TẠI ĐẠI HỘI ĐẠI BIỂU ĐẢNG BỘ XÃ NẬM LẠNH LẦN THỨ I, NHIỆM KỲ 2025 - 2030

Đại hội đại biểu Đảng bộ xã Nậm Lạnh lần thứ nhất được tổ chức sau khi sáp nhập các xã Nậm Lạnh, Huổi Một và Đứa Mòn.

Phần thứ nhất: BỐI CẢNH VÀ TÌNH HÌNH
II- KHÁI QUÁT VỀ ĐẶC ĐIỂM CỦA XÃ NẬM LẠNH
1. Khái quát chung
Xã Nậm Lạnh có tổng diện tích tự nhiên là 187,25 km2, dân số 14.020 người.
Đảng bộ xã Nậm Lạnh có 41 tổ chức đảng với 905 đảng viên.

Phần thứ hai: KẾT QUẢ THỰC HIỆN NGHỊ QUYẾT ĐẠI HỘI ĐẢNG BỘ CÁC XÃ, NHIỆM KỲ 2020 - 2025
I- KẾT QUẢ ĐẠT ĐƯỢC
1. Về kinh tế
Công tác trồng và bảo vệ rừng được quan tâm, tỷ lệ che phủ rừng đạt 47,3%.
Thu ngân sách trên địa bàn đạt 812 triệu đồng.

Phần thứ ba: MỤC TIÊU, NHIỆM VỤ, GIẢI PHÁP NHIỆM KỲ 2025 - 2030
II- MỤC TIÊU
2. Các chỉ tiêu chủ yếu
(1) Tỷ lệ che phủ rừng đạt 49% trở lên.
(2) Tỷ lệ hộ nghèo theo chuẩn nghèo đa chiều giảm bình quân 2,5%/năm.
(3) Tỷ lệ dân số tham gia bảo hiểm y tế đạt 97%.
"""

NEWS_SUMMARY = """Đại hội Đảng bộ xã Tà Xùa lần thứ I, nhiệm kỳ 2025-2030

Ngày 12/8, Đảng bộ xã Tà Xùa tổ chức Đại hội đại biểu lần thứ I, nhiệm kỳ 2025-2030.
Nhiệm kỳ 2020-2025, thu ngân sách trên địa bàn đạt 1.250 triệu đồng, tỷ lệ hộ nghèo giảm còn 18,4%.

Đại hội đề ra mục tiêu đến năm 2030, tỷ lệ che phủ rừng đạt 58%,
thu nhập bình quân đầu người đạt 40 triệu đồng/người/năm.
"""


def test_a_users_own_reports_get_records(isolated_settings: Settings) -> None:
    """A report written in the shape of these ones and a short newspaper summary of a congress."""
    (isolated_settings.reports_dir / "nam-lanh.txt").write_text(OWN_REPORT, encoding="utf-8")
    (isolated_settings.reports_dir / "ta-xua.txt").write_text(NEWS_SUMMARY, encoding="utf-8")
    summary = build_index(isolated_settings, show_bar=False)
    facts = open_index(isolated_settings).facts
    assert current_manifest(isolated_settings)["facts"] == len(facts)
    own = {(f["period"], f["indicator_key"]): numbers(f) for f in facts if f["file"] == "nam-lanh.txt"}
    assert own[("2025-2030", "forest_cover")] == [49] and own[("2025-2030", "health_insurance")] == [97]
    assert own[("2025-2030", "poverty_rate")] == [2.5] and own[("2020-2025", "forest_cover")] == [47.3]
    assert own[("profile", "area")] == [187.25] and own[("profile", "population")] == [14020]
    assert own[("profile", "party_organisations")] == [41]
    news = [f for f in facts if f["file"] == "ta-xua.txt"]
    assert {f["commune"] for f in news} == {"Tà Xùa"}
    by_number = {n: f for f in news for n in numbers(f)}
    assert {1250, 18.4, 58, 40} <= set(by_number)
    assert by_number[58]["indicator_key"] == "forest_cover" and by_number[1250]["indicator_key"] == "budget_revenue"
    assert by_number[18.4]["indicator_key"] == "poverty_rate"
    again = build_index(isolated_settings, show_bar=False)  # an unchanged corpus: no work at all
    assert again.unchanged and again.embedded == 0 and again.generation == summary.generation


def test_an_index_without_facts_says_how_to_rebuild(isolated_settings: Settings) -> None:
    build_index(isolated_settings, show_bar=False)
    generation = current_manifest(isolated_settings)["generation"]
    (isolated_settings.index_dir / generation / "facts.json").unlink()
    with pytest.raises(IndexUnavailable, match="baocao index --rebuild"):
        open_index(isolated_settings)


def test_the_lexicon_is_well_formed() -> None:
    rows = (PROJECT_ROOT / "data" / "indicators.tsv").read_text(encoding="utf-8").splitlines()
    assert rows[0].split("\t") == ["key", "english", "unit", "phrases"]
    keys = [r.split("\t")[0] for r in rows[1:]]
    assert len(keys) == len(set(keys)) >= 40
    assert all(len(r.split("\t")) == 4 and r.split("\t")[3] for r in rows[1:])


def test_only_results_carry_a_plan_and_an_assessment(facts) -> None:
    assert not [f["id"] for f in facts if f["period"] != "2020-2025" and (f["plan"] or f["assessment"] or f["ratio"])]
    assessed = [f for f in facts if f["source"] != "table" and f["assessment"]]
    assert assessed, "prose and footnotes write assessments too (\"đạt và vượt chỉ tiêu đại hội\")"
