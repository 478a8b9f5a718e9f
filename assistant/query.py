"""Understand a question: language, communes (and former communes), period, intent, concepts.

Works the same for English, Vietnamese, and Vietnamese typed without diacritics: every
match is made on folded text (lowercase, no diacritics, đ→d).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from assistant.glossary import Concept, Glossary
from assistant.normalize import normalize_question
from assistant.places import PlaceReading, reader_for, syllable_shaped
from index.communes import CommuneRegistry
from index.schema import PERIOD_PLAN, PERIOD_REVIEW
from index.text import fold, has_diacritics, lexical_tokens, tokens

LANG_EN, LANG_VI, LANG_VI_ASCII = "en", "vi", "vi-ascii"

_EN_WORDS = {
    "what", "which", "how", "is", "are", "does", "did", "of", "for", "by", "many", "much", "under", "should",
    "was", "were", "has", "have", "its", "their", "who", "when", "compare", "share", "rate", "target", "targets",
    "percentage", "commune", "communes", "the", "and", "in", "with", "from", "former", "plan", "aim", "reached",
    "achieved", "term", "households", "population", "collect", "collected", "supposed", "there", "report",
    "according", "between", "before", "after", "total", "number", "new", "people", "party", "members",
}
_AMBIGUOUS_EN = {"the", "to", "do", "an", "in", "and"}  # also folded Vietnamese syllables ("thể", "tổ", "đó")

_PLAN_CUE = re.compile(
    r"2025\s*[-–]\s*2030|2026\s*[-–]\s*2030|\b2030\b|muc tieu|phan dau|ke hoach|\btarget|\baim|\bgoal|\bplan|"
    r"supposed to|\bshould\b|\bwill\b|den nam 2030|nhiem ky toi|sap toi|next term|upcoming"
)
_REVIEW_CUE = re.compile(
    r"2020\s*[-–]\s*202[45]|2021\s*[-–]\s*202[45]|\b2020\b|\b2024\b|dat duoc|da dat|ket qua|nhiem ky truoc|"
    r"nhiem ky qua|\bachiev|\breached|last term|previous term|past term|"
    r"\bcollected\b|\bbuilt\b|\bfell\b|\bfall\b.*between|so voi chi tieu|compared with (its|the) target|"
    r"meet its target|\bcu\b|\bformer\b"
)
_COMPARE_CUE = re.compile(
    r"\bcompare|\bcomparison|so sanh|\bversus\b|\bvs\b|which (of the )?(five |5 )?communes?|xa nao co|"
    r"\bhighest\b|\blowest\b|\blargest\b|\bsmallest\b|cao nhat|thap nhat|lon nhat|nho nhat|"
    r"all (the )?(five |5 )?communes|each commune|every commune|cac xa|tat ca|5 xa|nam xa"
)
_RANK_CUE = re.compile(r"\bhighest\b|\blargest\b|cao nhat|lon nhat|\bmost\b|\blowest\b|\bsmallest\b|thap nhat|nho nhat")
_LOW_CUE = re.compile(r"\blowest\b|\bsmallest\b|thap nhat|nho nhat|\bleast\b")
_FIGURE_CUE = re.compile(
    r"bao nhieu|how (many|much|far|large|big)|what (percentage|share|rate|proportion|level|growth)|"
    r"\bty le\b|\brate\b|\bshare\b|percentage|so sanh|compare|target|chi tieu|"
    r"\bhow\b.*\b(km|ha|tons?|hectares?)\b|how long|dai bao nhieu"
)
_NOT_FIGURE_CUE = re.compile(
    r"\bwhich\b(?! (of the )?communes?)|\bwho\b|\bname\b|\blist\b|\bnao\b|\bai\b|\bnhung\b|\bneu\b"
)
_DATE_CUE = re.compile(r"what date|which date|\bwhen\b|ngay nao|ngay thang|khi nao|thoi gian nao")
_LIST_CUE = re.compile(r"^(neu|liet ke|list|name)\b|\bnhung\b|\bcac\b.*\bnao\b|\bwhich\b|what are")
_UNIT_CUES = (
    ("km2", re.compile(r"km2|square kilomet|km vuong")),
    ("đồng", re.compile(r"trieu dong|ty dong|\bdong\b|\bvnd\b|million|billion|\bin absolute\b")),
    ("ha", re.compile(r"\bha\b|hectare|hecta")),
    ("tấn", re.compile(r"\btan\b|\btons?\b|tonnes?")),
    ("km", re.compile(r"\bkm\b|kilomet|how long|dai bao nhieu")),
    ("%", re.compile(r"%|percent|\bty le\b|\brate\b|\bshare\b|proportion|phan tram")),
)
# Words that carry no topic: question words, period and place words (folded).
_STOP = frozenset(
    """
    xa cua la bao nhieu muc tieu chi tieu nhiem ky den nam trong co duoc va cac nhung nao gi the nao dat
    khong hay hoac theo so voi cho tai tren duoi sau truoc khi thi de ve mot hai ba cu nay thuoc ho giai
    doan tu con bang dang se da phan dau ket qua nghi quyet huyen tinh son la toi qua hien what which
    how is are does did of for by many much under should was were has have its their who when the and in
    with from to a an on at as be it that this there commune communes former term report according per
    new plan aim target targets achieved reached set sets planned supposed during total them they these
    those sit sits member members many any all some each other than more less most number share rate
    percentage level value figure figures compare comparison between end
    """.split()
)


@dataclass
class Query:
    text: str
    language: str
    communes: list[str] = field(default_factory=list)  # official names, in question order
    units: list[str] = field(default_factory=list)  # former communes named in the question
    unit_kind: str | None = None  # "xa" or "thi tran": the kind of former unit the question names
    other_units: list[str] = field(default_factory=list)  # the same commune's other former units
    period: str | None = None
    period_explicit: bool = False
    compare: bool = False
    rank: str | None = None  # "high" | "low" for "which commune has the highest …"
    wants_figure: bool = True
    wants_date: bool = False
    wants_count: bool = False  # "how many party members": a count, not a percentage
    wants_assessment: bool = False  # "did it meet its target?", "có đạt không?"
    wants_list: bool = False
    unit_hint: str | None = None
    concepts: list[Concept] = field(default_factory=list)
    content_tokens: list[str] = field(default_factory=list)  # folded topic tokens
    unmapped: list[str] = field(default_factory=list)  # English topic words the glossary cannot translate
    lexical_tokens: list[str] = field(default_factory=list)  # what BM25 searches for

    @property
    def folded(self) -> str:
        return fold(self.text)


def detect_language(text: str, vocabulary: set[str] | None = None, english: frozenset[str] = frozenset()) -> str:
    """English if English words carry the sentence (names may still have diacritics).

    A word counts as English when it is a known English word (function words, the glossary's
    English side) and not also a Vietnamese syllable typed without accents ("the", "to").
    """
    words = [w for w in re.findall(r"\w+", text.lower()) if w.isascii() and w.isalpha()]
    syllables = vocabulary or set()
    known = [w for w in words if w in _EN_WORDS or w in english]
    strong = [w for w in known if w not in _AMBIGUOUS_EN and not (w in syllables and _syllable_shaped(w))]
    if len(strong) >= 2 or (strong and len(known) >= 2) or (strong and len(strong) * 2 >= len(words)):
        return LANG_EN
    if re.match(r"^\s*(and|what about|how about)\b", text.lower()) and not has_diacritics(text.split()[0]):
        return LANG_EN
    return LANG_VI if has_diacritics(text) else LANG_VI_ASCII


def _syllable_shaped(word: str) -> bool:
    """Could this be a Vietnamese syllable typed without accents? "the" can, "forest" cannot."""
    return syllable_shaped(word)


def find_communes(text: str, registry: CommuneRegistry) -> tuple[list[str], list[str]]:
    """Communes (official names) and former units named in the text, typed any way people type them.

    ``assistant/places.py`` reads the names (run together, hyphenated, a letter off, spelt by ear;
    never a nearer real place); "cũ"/"former" with no other unit named means the commune's own
    former unit of the same name.
    """
    return _communes_of(reader_for(registry).read(normalize_question(text)), text, registry)


def _communes_of(reading: PlaceReading, text: str, registry: CommuneRegistry) -> tuple[list[str], list[str]]:
    communes, units = reading.communes, reading.units
    folded = " " + re.sub(r"[^a-z0-9]+", " ", fold(text)) + " "
    if not units and re.search(r"\bcu\b|\bformer\b|\bold\b|truoc day|\(cu\)", folded):
        units = [c for c in communes if _is_own_former_unit(c, registry)]
    return communes, units


def _is_own_former_unit(commune: str, registry: CommuneRegistry) -> bool:
    info = registry.communes.get(commune)
    return bool(info and any(fold(u) == fold(commune) for u in info.former_units))


_CAPITALIZED_NAME = re.compile(r"\b([A-ZĐÀ-Ỹ][a-zà-ỹđ]+(?:\s+[A-ZĐÀ-Ỹ][a-zà-ỹđ]+){1,2})\b")


def unknown_places(text: str, registry: CommuneRegistry, corpus_text: str, syllables: set[str]) -> list[str]:
    """Vietnamese-looking place names in the question that no report mentions ("Hà Nội", "Chiềng Mai").

    A question about a commune with no report must not be answered with another commune's figure.
    """
    known = {fold(n) for info in registry.communes.values() for n in info.all_names()}
    out = []
    for m in _CAPITALIZED_NAME.finditer(text):
        name = m.group(1)
        folded = fold(name)
        words = folded.split()
        if folded in known or any(fold(k) in folded for k in known) or not all(w in syllables for w in words):
            continue
        if not has_diacritics(name) and any(w in _EN_WORDS for w in words):
            continue
        if folded not in corpus_text:
            out.append(name)
    return out


def detect_period(folded: str) -> tuple[str | None, bool]:
    """(period, explicit). Explicit year ranges win over words; unclear → None (search both)."""
    if re.search(r"2020\s*[-–]\s*202[45]|2021\s*[-–]\s*202[45]", folded):
        return PERIOD_REVIEW, True
    plan, review = _PLAN_CUE.search(folded), _REVIEW_CUE.search(folded)
    if plan and not review:
        return PERIOD_PLAN, True
    if review and not plan:
        return PERIOD_REVIEW, True
    if plan and review:
        return (PERIOD_PLAN, True) if re.search(r"2030", folded) else (PERIOD_REVIEW, True)
    return None, False


@lru_cache(maxsize=4)
def load_question_words(path: Path) -> tuple[str, ...]:
    """Scaffolding phrases (folded), longest first: "target", "by 2030", "bao nhiêu", "tỷ lệ" …

    A phrase written with diacritics in the file is Vietnamese and marked with a leading "~",
    so a Vietnamese question is stripped of Vietnamese scaffolding only: the English "can"
    folds like "cận" (near-poor) and "ho" like "hộ", and must not eat them.
    """
    if not path.exists():
        return ()
    phrases: dict[str, bool] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key = re.sub(r"[^a-z0-9]+", " ", fold(line)).strip()
        if key:
            phrases[key] = phrases.get(key, False) or has_diacritics(line)
    ordered = sorted(phrases, key=len, reverse=True)
    return tuple(("~" + p) if phrases[p] else p for p in ordered)


def _scaffold_for(language: str, scaffold: tuple[str, ...]) -> tuple[str, ...]:
    if language == LANG_EN:
        return tuple(p.lstrip("~") for p in scaffold)
    return tuple(p[1:] for p in scaffold if p.startswith("~"))


def strip_scaffold(text: str, scaffold: tuple[str, ...]) -> str:
    """The question without the words that only shape it (what remains names the topic)."""
    out = " " + re.sub(r"[^a-z0-9%/]+", " ", fold(text)) + " "
    for phrase in scaffold:
        out = out.replace(f" {phrase} ", " | ")
    return out


def understand(text: str, registry: CommuneRegistry, glossary: Glossary,
               vocabulary: set[str] | None = None, scaffold: tuple[str, ...] = ()) -> Query:
    text = normalize_question(text)
    language = detect_language(text, vocabulary, glossary.english_words)
    scaffold = _scaffold_for(language, scaffold)
    folded = fold(text)
    topic = strip_scaffold(text, scaffold)
    reading = reader_for(registry).read(text)
    communes, units = _communes_of(reading, text, registry)
    period, explicit = detect_period(folded)
    rank = ("low" if _LOW_CUE.search(folded) else "high") if _RANK_CUE.search(folded) else None
    compare = len(communes) >= 2 or rank is not None or (bool(_COMPARE_CUE.search(folded)) and len(communes) != 1)
    concepts = _english_concepts(text, glossary, scaffold) if language == LANG_EN else []
    place_words = {t for c in registry.communes.values() for n in c.all_names() for t in tokens(n)}
    place_words |= {t for p in reading.places for n in p.forms for t in tokens(n)}  # "huyện Sông Mã": context
    content = [t for t in tokens(topic) if t not in _STOP and t not in place_words and not t.isdigit()]
    unmapped: list[str] = []
    if language == LANG_EN:  # English words can fold into Vietnamese syllables ("long"): keep only names
        names = {fold(w) for w in re.findall(r"\w+", text) if w[0].isupper() or has_diacritics(w)
                 or any(c.isdigit() for c in w)}
        unmapped = _unmapped_english(topic, concepts, place_words | names)
        content = [t for t in content if t in names and (vocabulary is None or t in vocabulary)]
    unit_hint = next((unit for unit, cue in _UNIT_CUES if cue.search(folded)), None)
    wants_figure = (bool(_FIGURE_CUE.search(folded)) and not _NOT_FIGURE_CUE.search(folded)) or (
        unit_hint not in (None, "%"))
    lexical = [t for t in lexical_tokens(" ".join(t for t in tokens(text) if t not in _STOP and t not in place_words))]
    lexical += [t for c in concepts for phrase in c.phrases for t in lexical_tokens(phrase)]
    unit_kind = _unit_kind(folded, units)
    other_units = [u for c in communes for u in registry.communes[c].former_units if u not in units] if units else []
    wants_date = bool(_DATE_CUE.search(folded))
    wants_assessment = bool(re.search(r"dat khong|co dat|meet (its|the) target|compare with (its|the) target|"
                                      r"compared? (to|with) (its|the) target|so voi chi tieu", folded))
    wants_count = bool(re.search(r"how many|bao nhieu (?!phan tram|%|ty|trieu)[a-z]", folded)) and unit_hint != "%"
    wants_list = bool(_LIST_CUE.search(folded)) and not wants_figure
    return Query(text=text, language=language, communes=communes, units=units, unit_kind=unit_kind,
                 other_units=other_units, period=period, period_explicit=explicit, compare=compare, rank=rank,
                 wants_figure=wants_figure, wants_date=wants_date, wants_count=wants_count,
                 wants_assessment=wants_assessment, wants_list=wants_list,
                 unit_hint=unit_hint,
                 concepts=concepts, content_tokens=content, lexical_tokens=lexical,
                 unmapped=unmapped)


_COMPOUND = re.compile(r",?\s+(?:and|và)\s+(?=(?:how many|how much|what|which|bao nhiêu|bao nhieu)\b)", re.IGNORECASE)


def split_compound(question: str) -> list[str]:
    """A two-part question as its two questions (else the question itself).

    "How many criteria …, and how many villages …?" splits at the second question word;
    "What is the total area and population of X?" at the "and" joining two topics, each part
    keeping the rest of the question: "the total area of X", "the population of X".
    """
    parts = [p.strip() for p in _COMPOUND.split(question) if p.strip()]
    if len(parts) == 2:
        return parts
    return _coordinated(question)


_AND = re.compile(r"\s+(?:and|và|va)\s+", re.IGNORECASE)
_PHRASE_MAX = 4


def _coordinated(question: str) -> list[str]:
    """Split "… A and B …" where A and B are short topic phrases (no question or place words)."""
    found = list(_AND.finditer(question))
    if len(found) != 1:
        return [question]
    m = found[0]
    left, right = question[: m.start()].split(), question[m.end():].split()
    a = _phrase(list(reversed(left)), left[0] if left else "")
    b = _phrase(right)
    if not a or not b:
        return [question]
    head, tail = left[: len(left) - len(a)], right[len(b):]
    first = " ".join([*head, *reversed(a), *tail])
    second = " ".join([*head, *b, *tail])
    return [first, second]


# Words that end a coordinated topic phrase: question, place and linking words ("of", "của", "xã").
_PHRASE_BOUNDARY = frozenset(
    """
    cua xa la bao nhieu co dat nam cac nhung trong tai o den theo hien moi sau truoc khi duoc thi tran
    the of in for what is are was were does did do how many much has have by to at on with from commune
    communes its their which who that new after before during a an as
    """.split()
)


def _phrase(words: list[str], first_word: str = "") -> list[str]:
    """The topic words next to the "and", up to the first question, linking or place word."""
    out: list[str] = []
    for word in words[:_PHRASE_MAX]:
        key = fold(word).strip(",.?!:;()\"'")
        place = word[:1].isupper() and word is not first_word
        if not key or key in _PHRASE_BOUNDARY or any(ch.isdigit() for ch in key) or place:
            break
        out.append(word)
    return out


def _english_concepts(text: str, glossary: Glossary, scaffold: tuple[str, ...]) -> list[Concept]:
    """Glossary concepts of the question's English words.

    Matched on the whole question, so "new rural" keeps its "new"; Vietnamese words in the
    question are left out ("lao động" is not Laos), and concepts made only of question words
    ("the congress", "target") are dropped.
    """
    english_only = " ".join(w for w in text.split() if not has_diacritics(w))
    scaffold_words = {w for phrase in scaffold for w in phrase.split()}
    return [c for c in glossary.concepts(english_only) if not set(c.source.split()) <= scaffold_words]


def _unmapped_english(topic: str, concepts: list[Concept], place_words: set[str]) -> list[str]:
    """English topic words no glossary concept covers ("life expectancy"): the answer cannot be checked
    against them, so they count against coverage instead of being ignored."""
    covered = {w for c in concepts for w in c.source.split()}
    words = re.findall(r"[a-z]+", topic)
    return [w for w in dict.fromkeys(words) if len(w) > 2 and w not in covered and w not in _STOP
            and w not in place_words and not _is_plural_of(w, covered)]


def _is_plural_of(word: str, covered: set[str]) -> bool:
    return word.rstrip("s") in covered or (word.endswith("ies") and word[:-3] + "y" in covered)


def _unit_kind(folded: str, units: list[str]) -> str | None:
    """Which kind of former unit the question names first: "xã Hát Lót" or "thị trấn Hát Lót"."""
    first: tuple[int, str] | None = None
    for unit in units:
        u = fold(unit)
        name = re.escape(u)
        patterns = (("xa", rf"\b(xa|commune) {name}\b|\b{name} commune\b"),
                    ("thi tran", rf"\b(thi tran|township|town) {name}\b|\b{name} (township|town)\b"))
        for kind, pattern in patterns:
            m = re.search(pattern, folded)
            if m and (first is None or m.start() < first[0]):
                first = (m.start(), kind)
    return first[1] if first else None
