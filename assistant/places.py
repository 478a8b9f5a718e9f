"""Which places a question names: the reported communes (typed any way), other places, unknown names.

People type "Mường La" as "muongla", "MuongLa", "Muong-La", "Muong Lla" or, by ear, "Muong Laa";
"Phiêng Pằn" as "Fieng Pan". Every name and every run of one to six words of the question are
compared as folded, space-free keys ("muongla"), and as sound keys (``data/place_sounds.tsv``:
"ph"→"f", "nh"→"n", repeated letters collapsed), with a Damerau (OSA) similarity from rapidfuzz.
A run is read as a reported commune when its best similarity reaches the threshold fitted by
``assistant/place_fit.py`` (``data/place_match.json``) *and* no other known place
(``data/places.tsv``: provinces, districts, other communes, cities abroad) is at least as close:
"Mường Lát" is a district of Thanh Hóa, not a typo of "Mường La".

Other places are context or a reason to refuse: Sơn La beside one of its communes is context;
"Thanh Hóa" beside Mường La is a mismatch; "Hanoi", "London", "xã Tân Lập" alone have no report.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from rapidfuzz.distance import OSA
from rapidfuzz.process import cdist

from baocao.config import DATA_FILES
from index.communes import CommuneRegistry
from index.text import fold

PLACES_PATH = DATA_FILES / "places.tsv"
SOUNDS_PATH = DATA_FILES / "place_sounds.tsv"
MATCH_PATH = DATA_FILES / "place_match.json"
MAX_WORDS = 6  # "Thành phố Hồ Chí Minh" is five
MIN_KEY = 4  # shorter runs ("la", "xa") are words, not names
# Words that introduce a place name ("xã Tân Lập", "in Hanoi") or follow it ("Tân Lập commune").
CUE_BEFORE = frozenset("xa phuong huyen tinh commune ward district province in of at tai cua o thuoc".split())
CUE_AFTER = frozenset("commune ward district province town city".split())
DISTRICT_CUE = frozenset("huyen district".split())
PROVINCE_CUE = frozenset("tinh province".split())
_SYLLABLE = re.compile(r"(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(ch|ng|nh|[cmnpt])?")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def syllable_shaped(word: str) -> bool:
    """Could this (folded) word be a Vietnamese syllable? "tan" can, "london" and "party" cannot."""
    return _SYLLABLE.fullmatch(word) is not None


@dataclass(frozen=True)
class Place:
    name: str
    kind: str  # province | city | district | commune | country | foreign
    province: str | None = None
    forms: tuple[str, ...] = ()  # the name and its other spellings


@dataclass
class PlaceReading:
    """What a question says about places."""

    communes: list[str] = field(default_factory=list)  # reported communes, in question order
    units: list[str] = field(default_factory=list)  # former units named
    places: list[Place] = field(default_factory=list)  # other known places named
    unknown: list[str] = field(default_factory=list)  # names introduced as places that no one knows, as typed
    mismatch: list[tuple[str, str]] = field(default_factory=list)  # (commune, place that is not its own)


@dataclass
class _Span:
    start: int  # token index
    end: int
    text: str
    score: float
    commune: str | None = None
    unit: str | None = None
    place: Place | None = None


def squeeze(text: str) -> str:
    """Folded, letters and digits only: "Mường-La" → "muongla"."""
    return re.sub(r"[^a-z0-9]+", "", fold(text))


@lru_cache(maxsize=4)
def load_sounds(path: Path = SOUNDS_PATH) -> tuple[tuple[str, str], ...]:
    if not path.exists():
        return ()
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:]
            if line.strip() and not line.startswith("#")]
    return tuple((r[0].strip(), r[1].strip()) for r in rows if len(r) >= 2 and r[0].strip() != "spelling")


def sound_key(key: str, sounds: tuple[tuple[str, str], ...]) -> str:
    """Repeated letters collapsed ("laa" → "la"), then the spellings of ``data/place_sounds.tsv`` as sounds."""
    key = re.sub(r"(.)\1+", r"\1", key)
    for spelling, sound in sounds:
        key = key.replace(spelling, sound)
    return re.sub(r"(.)\1+", r"\1", key)


@lru_cache(maxsize=4)
def load_places(path: Path = PLACES_PATH) -> tuple[Place, ...]:
    """The gazetteer (missing file: none)."""
    if not path.exists():
        return ()
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("name\t"):
            continue
        cols = (line.split("\t") + ["", "", ""])[:4]
        name, kind, province, aliases = (c.strip() for c in cols)
        forms = (name, *(a.strip() for a in aliases.split("|") if a.strip()))
        out.append(Place(name, kind, province or None, forms))
    return tuple(out)


@lru_cache(maxsize=4)
def load_threshold(path: Path = MATCH_PATH) -> float:
    """The fitted acceptance threshold (``python -m assistant.place_fit`` writes it)."""
    return float(json.loads(path.read_text(encoding="utf-8"))["threshold"])


def marked(text: str) -> str:
    """Lower case, letters and digits only, diacritics kept: "Cò Nòi" → "cònòi" (not "có nội")."""
    return "".join(c for c in unicodedata.normalize("NFC", text.lower()) if c.isalnum())


class NameTable:
    """Names as squeezed and sound keys, scored against many query keys at once.

    A query typed with diacritics is also held to the name's own diacritics: "có nội" (has content)
    folds to "co noi" like "Cò Nòi", and "tư nâng" (investment upgrade) like "Tú Nang"."""

    def __init__(self, names: list[str], sounds: tuple[tuple[str, str], ...]) -> None:
        self.keys = [squeeze(n) for n in names]
        self.marked = [marked(n) for n in names]
        self.sounds = sounds
        self.sound_keys = [sound_key(k, sounds) for k in self.keys]

    def best(self, queries: list[str], typed: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(best similarity, index of the best name) for each query key (``typed``: as written)."""
        if not queries or not self.keys:
            return np.zeros(len(queries)), np.full(len(queries), -1)
        raw = cdist(queries, self.keys, scorer=OSA.normalized_similarity, dtype=np.float32)
        heard = cdist([sound_key(q, self.sounds) for q in queries], self.sound_keys,
                      scorer=OSA.normalized_similarity, dtype=np.float32)
        both = np.maximum(raw, heard)
        if typed is not None:
            accented = [i for i, (q, t) in enumerate(zip(queries, typed, strict=True)) if q != t]
            if accented:
                as_typed = cdist([typed[i] for i in accented], self.marked, scorer=OSA.normalized_similarity,
                                 dtype=np.float32)
                both[accented] = np.minimum(both[accented], as_typed)
        return both.max(axis=1), both.argmax(axis=1)


class PlaceReader:
    """Reads the places of a question against the commune registry and the gazetteer."""

    def __init__(self, registry: CommuneRegistry, places: tuple[Place, ...] | None = None,
                 threshold: float | None = None, corpus_folded: str = "",
                 sounds: tuple[tuple[str, str], ...] | None = None) -> None:
        self.registry = registry
        self.threshold = load_threshold() if threshold is None else threshold
        sounds = load_sounds() if sounds is None else sounds
        self.ours: list[tuple[str, str, str | None]] = []  # (name, commune, former unit or None)
        for info in registry.communes.values():
            for name in info.all_names():
                unit = None if fold(name) == fold(info.name) else name
                self.ours.append((name, info.name, unit))
        our_keys = {squeeze(n) for n, _, _ in self.ours}
        places = load_places() if places is None else places
        self.places = [p for p in places if squeeze(p.name) not in our_keys]
        self.same_named = {squeeze(p.name): p for p in places if squeeze(p.name) in our_keys}
        self.place_forms = [(form, p) for p in self.places for form in p.forms if squeeze(form) not in our_keys]
        self.our_table = NameTable([n for n, _, _ in self.ours], sounds)
        self.place_table = NameTable([f for f, _ in self.place_forms], sounds)
        self.corpus = corpus_folded
        self._cache: dict[tuple[str, float | None], PlaceReading] = {}
        self.province_of = self._provinces()

    def _provinces(self) -> dict[str, str | None]:
        """A commune's province: that of its former district in the gazetteer."""
        districts = {fold(p.name): p.province for p in (*self.places, *self.same_named.values())
                     if p.kind == "district"}
        return {c: districts.get(fold(info.former_district or "")) for c, info in self.registry.communes.items()}

    # -- spans -----------------------------------------------------------------------------
    def spans(self, text: str) -> tuple[list[tuple[str, str]], list[_Span]]:
        """The words (as typed, folded) and every run of them scored against ours and the places."""
        words = [(m.group(0), fold(m.group(0))) for m in _WORD.finditer(text)]
        runs = self.runs([f for _, f in words])
        typed = [marked("".join(w for w, _ in words[i:j])) for i, j, _ in runs]
        scored = self.score_keys([k for _, _, k in runs], typed)
        out = []
        for (i, j, _), (s_o, o, s_p, p) in zip(runs, scored, strict=True):
            typed = " ".join(w for w, _ in words[i:j])
            if s_o >= s_p and o >= 0:
                _, commune, unit = self.ours[o]
                out.append(_Span(i, j, typed, s_o, commune=commune, unit=unit))
            elif p >= 0:
                out.append(_Span(i, j, typed, s_p, place=self.place_forms[p][1]))
        return words, out

    def runs(self, folded_words: list[str]) -> list[tuple[int, int, str]]:
        """(first word, end word, space-free key) of every run of one to six words that could be a name."""
        longest = max((len(k) for k in self.our_table.keys + self.place_table.keys), default=0) + 2
        runs: list[tuple[int, int, str]] = []
        for i in range(len(folded_words)):
            key = ""
            for j in range(i, min(i + MAX_WORDS, len(folded_words))):
                key += re.sub(r"[^a-z0-9]", "", folded_words[j])
                if len(key) > longest:
                    break
                if len(key) >= MIN_KEY:
                    runs.append((i, j + 1, key))
        return runs

    def score_keys(self, keys: list[str], typed: list[str] | None = None) -> list[tuple[float, int, float, int]]:
        """(best similarity to our names, which, best similarity to other places, which) per key."""
        ours, our_idx = self.our_table.best(keys, typed)
        theirs, their_idx = self.place_table.best(keys, typed)
        return [(float(a), int(b), float(c), int(d)) for a, b, c, d in zip(ours, our_idx, theirs, their_idx,
                                                                           strict=True)]

    def select(self, spans: list[_Span], threshold: float) -> list[_Span]:
        """Non-overlapping runs, best first: a commune must reach the threshold and beat every other place;
        another place must be named exactly (a word like "long an" is not fuzzily a province)."""
        keep = [s for s in spans if (s.commune and s.score >= threshold) or (s.place and s.score >= 1.0)]
        keep.sort(key=lambda s: (-s.score, -(s.end - s.start), s.start))
        taken: list[_Span] = []
        for span in keep:
            if all(span.end <= t.start or span.start >= t.end for t in taken):
                taken.append(span)
        return sorted(taken, key=lambda s: s.start)

    # -- reading ---------------------------------------------------------------------------
    def communes(self, text: str, threshold: float | None = None) -> tuple[list[str], list[str]]:
        reading = self.read(text, threshold)
        return reading.communes, reading.units

    def read(self, text: str, threshold: float | None = None) -> PlaceReading:
        """The places of a question (cached: the parser and the answerer both read the same question)."""
        key = (text, threshold)
        cached = self._cache.get(key)
        if cached is None:  # thread-safe enough: a lost entry is only computed again
            if len(self._cache) > 512:
                self._cache.clear()
            cached = self._cache[key] = self._read(text, threshold)
        return PlaceReading(list(cached.communes), list(cached.units), list(cached.places), list(cached.unknown),
                            list(cached.mismatch))

    def _read(self, text: str, threshold: float | None) -> PlaceReading:
        words, spans = self.spans(text)
        chosen = self.select(spans, self.threshold if threshold is None else threshold)
        reading = PlaceReading()
        previous: _Span | None = None
        for span in chosen:
            before = words[span.start - 1][1] if span.start > 0 else ""
            after = words[span.end][1] if span.end < len(words) else ""
            if span.commune and (before in DISTRICT_CUE or after == "district" or self._district_of(previous, span)):
                span.place = self.same_named.get(squeeze(span.commune)) or self.same_named.get(squeeze(span.text))
                if span.place is None:
                    continue
                span.commune = None
            previous = span
            if span.commune:
                reading.communes.append(span.commune)
                if span.unit:
                    reading.units.append(span.unit)
            elif span.place and self._named(span, words, before, after):
                reading.places.append(span.place)
        reading.communes = list(dict.fromkeys(reading.communes))
        reading.units = list(dict.fromkeys(reading.units))
        reading.unknown = self._unknown(words, chosen, reading)
        reading.mismatch = self._mismatch(reading)
        return reading

    def _district_of(self, previous: _Span | None, span: _Span) -> bool:
        """"Phiêng Pằn (Mai Sơn)", "Phiêng Pằn, Mai Sơn": right after a commune, its former district's name
        is that district, not a second commune to compare."""
        if previous is None or not previous.commune or previous.end != span.start or not span.commune:
            return False
        info = self.registry.communes.get(previous.commune)
        return bool(info and info.former_district and span.unit is None
                    and squeeze(info.former_district) == squeeze(span.commune) != squeeze(previous.commune))

    def _named(self, span: _Span, words: list[tuple[str, str]], before: str, after: str) -> bool:
        """A place whose name is also ordinary text of the reports ("hòa bình", "lao động") counts only
        when written as a name (capitalised) or introduced as a place ("tỉnh …", "… province")."""
        if not self.corpus or f" {fold(span.text)} " not in f" {self.corpus} ":
            return True
        capitalised = all(w[:1].isupper() for w, _ in words[span.start:span.end])
        return capitalised or before in CUE_BEFORE or after in CUE_AFTER

    def _unknown(self, words: list[tuple[str, str]], chosen: list[_Span], reading: PlaceReading) -> list[str]:
        """Names introduced as places ("xã Tân Lập", "in Chiềng Ve", "Tân Lập commune") that are not known."""
        out: list[str] = []
        covered = {i for s in chosen for i in range(s.start, s.end)}
        for i, (_, folded) in enumerate(words):
            if folded in CUE_BEFORE:
                name = self._capitalised_run(words, i + 1, 1, covered)
            elif folded in CUE_AFTER:
                name = self._capitalised_run(words, i - 1, -1, covered)
            else:
                continue
            if name and name not in out:
                out.append(name)
        return out

    @staticmethod
    def _capitalised_run(words: list[tuple[str, str]], start: int, step: int, covered: set[int]) -> str | None:
        """Two or three capitalised, syllable-shaped words not read as any known place: a place name."""
        run: list[int] = []
        i = start
        while 0 <= i < len(words) and len(run) < 3:
            typed, folded = words[i]
            if i in covered or not typed[:1].isupper() or not syllable_shaped(folded):
                break
            run.append(i)
            i += step
        if len(run) < 2:
            return None
        return " ".join(words[k][0] for k in sorted(run))

    def _mismatch(self, reading: PlaceReading) -> list[tuple[str, str]]:
        out = []
        for place in reading.places:
            for commune in reading.communes:
                if not self.fits(commune, place):
                    out.append((commune, place.name))
        return out

    def is_home(self, place: Place) -> bool:
        """The province or a former district of a reported commune ("Sơn La", "Mai Sơn district")."""
        return any(self.fits(c, place) for c in self.registry.communes)

    def fits(self, commune: str, place: Place) -> bool:
        """Sơn La for its communes; the commune's own former district."""
        info = self.registry.communes.get(commune)
        if place.kind == "province":
            return self.province_of.get(commune) == place.name
        if place.kind == "district":
            return bool(info and info.former_district and fold(info.former_district) == fold(place.name))
        return False


_READERS: dict[tuple[int, tuple[str, ...]], tuple[CommuneRegistry, PlaceReader]] = {}


def reader_for(registry: CommuneRegistry) -> PlaceReader:
    """One reader per registry (the registry is kept so its id cannot be reused)."""
    key = (id(registry), tuple(sorted(n for i in registry.communes.values() for n in i.all_names())))
    if key not in _READERS:
        if len(_READERS) > 16:
            _READERS.clear()
        _READERS[key] = (registry, PlaceReader(registry))
    return _READERS[key][1]
