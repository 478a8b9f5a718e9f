"""Indicator signals (assistant/indicators.py): which indicator a question asks, which a window states.

Questions here are written from the reports for this test; none is in an eval set.
"""

from __future__ import annotations

import numpy as np

from assistant.features import FEATURES
from assistant.indicators import IndicatorIndex
from index.text import fold


def _asked(assistant, question: str):
    query = assistant.parse(question)
    return assistant.indicators.for_question(query, assistant.retriever.question_vector(query.text))


def test_vietnamese_question_keys_keep_qualifiers_apart(assistant):
    assert _asked(assistant, "Tỷ lệ hộ cận nghèo của xã Mai Sơn đến năm 2030?").lexical == {"near_poverty_rate"}
    assert _asked(assistant, "ty le ho ngheo xa Phieng Pan nam 2030").lexical == {"poverty_rate"}
    assert _asked(assistant, "Tỷ lệ tham gia bảo hiểm xã hội của xã Bó Sinh?").lexical == {"social_insurance"}


def test_english_question_keys_come_through_the_glossary(assistant):
    asked = _asked(assistant, "What share of Mường La's people should have health insurance?")
    assert "health_insurance" in asked.lexical


def test_english_paraphrase_is_nearest_its_indicator_name(assistant):
    """No lexicon phrase is needed: the embedder puts the question next to the English name."""
    asked = _asked(assistant, "How green will Chiềng Hặc's hills be, in terms of tree cover, by 2030?")
    ranked = sorted(asked.similarity, key=asked.similarity.get, reverse=True)
    assert ranked.index("forest_cover") <= 2, ranked[0]
    assert asked.top == ranked[0]


def test_window_keys_are_the_records_in_its_lines(assistant):
    idx = assistant.indicators
    fact = next(f for f in assistant.index.facts if f["indicator_key"] == "forest_cover" and f["period"] == "2025-2030")
    keys = idx.window_keys(fact["file"], fact["line_start"], fact["line_end"], fold(fact["text"]))
    assert "forest_cover" in keys
    assert idx.window_keys(fact["file"], fact["line_start"], fact["line_end"], "mot cau khong lien quan") == set()


def test_a_neighbouring_indicator_is_marked_as_a_conflict(assistant):
    """An income question meets budget-revenue sentences: their windows carry the conflict, income ones the match."""
    query = assistant.parse("Thu nhập bình quân đầu người của xã Chiềng Hặc đến năm 2030 đạt bao nhiêu?")
    hits = assistant.retriever.retrieve(query, k=assistant.settings.answer_candidates)
    windows, _ = assistant.windows(query, hits)
    conflict, match = FEATURES.index("key_conflict"), FEATURES.index("key_match")
    keyed = [w for w in windows if w.keys]
    assert all(w.features[match] == 1.0 for w in keyed if "income_per_capita" in w.keys)
    others = [w for w in keyed if "income_per_capita" not in w.keys]
    assert others and all(w.features[conflict] == 1.0 and w.features[match] == 0.0 for w in others)


def test_an_income_target_is_given_only_where_the_report_sets_one(assistant):
    """The records say which reports set a 2030 income-per-head target; the others' neighbouring targets
    (budget-revenue growth, product-value growth) are no answer to it."""
    setting = {f["commune"] for f in assistant.index.facts  # keyed, or a growth of it ("tăng 22% so với năm 2025")
               if f["period"] == "2025-2030" and "thu nhap binh quan" in fold(f["text"])}
    communes = {f["commune"] for f in assistant.index.facts}
    assert setting and communes - setting
    for commune in sorted(communes - setting):
        answer = assistant.ask(f"Thu nhập bình quân đầu người của xã {commune} đến năm 2030 đạt bao nhiêu?")
        assert answer.status == "not_found", (commune, answer.answer)


def test_name_vectors_are_cached_not_re_embedded(assistant, tmp_path):
    calls = []

    class Counting:
        model_name = "counting"

        def get_text_embedding_batch(self, texts):
            calls.append(len(texts))
            return [np.ones(4) for _ in texts]

    lexicon = assistant.indicators.lexicon
    cache = tmp_path / "embeddings.sqlite"  # the index's embedding cache, as for passages
    IndicatorIndex.build(lexicon, assistant.index.facts, Counting(), cache, "counting")
    IndicatorIndex.build(lexicon, assistant.index.facts, Counting(), cache, "counting")
    assert calls == [len(lexicon.rows)]
