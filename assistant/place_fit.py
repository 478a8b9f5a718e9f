"""Fit the commune-name acceptance threshold of ``assistant/places.py`` on generated, labelled names.

Positives: every commune and former-unit name of the registry typed the ways people type it —
without diacritics, run together ("muongla", "MuongLa"), hyphenated, upper case, one letter
dropped, doubled, swapped or hit beside on the keyboard, and spelt by ear ("Fieng Pan", "Bo Sin").
Negatives: places that are not reported — the gazetteer's provinces, districts and cities, and
other communes of Sơn La *held out of the gazetteer* (the reader must refuse them without knowing
them) — and ordinary words: every run of lower-case words of the reports, the question words and
the glossary's English side.

The threshold is the one that maximises accuracy with zero false positives on the negatives
(the midpoint of the margin between the highest-scoring negative and the next positive score).
``python -m assistant.place_fit`` rewrites ``data/place_match.json``; a test checks it is current.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.places import MATCH_PATH, PlaceReader, load_places, marked, squeeze
from baocao.config import DATA_FILES, Settings
from index.communes import CommuneRegistry
from index.text import fold

_KEYBOARD = "qwertyuiop asdfghjkl zxcvbnm".split()


@dataclass(frozen=True)
class Example:
    text: str
    commune: str | None  # None: must not be read as any reported commune
    how: str


def _neighbour(letter: str) -> str | None:
    """The key to the right of a letter on a QWERTY keyboard (or to the left at the row's end)."""
    for row in _KEYBOARD:
        i = row.find(letter)
        if i >= 0:
            return row[i + 1] if i + 1 < len(row) else row[i - 1]
    return None


def typo_variants(name: str) -> list[tuple[str, str]]:
    """One-letter typos of a folded name, each with how it was made."""
    out = []
    for i, ch in enumerate(name):
        if not ch.isalpha():
            continue
        out.append((name[:i] + name[i + 1:], "drop"))
        out.append((name[:i] + ch + name[i:], "double"))
        nxt = name[i + 1] if i + 1 < len(name) else ""
        if nxt.isalpha() and nxt != ch:
            out.append((name[:i] + nxt + ch + name[i + 2:], "swap"))
        near = _neighbour(ch)
        if near:
            out.append((name[:i] + near + name[i + 1:], "near-key"))
    return out


def by_ear_variants(name: str, sounds: tuple[tuple[str, str], ...]) -> list[str]:
    """The name with one Vietnamese spelling replaced by its plain sound ("phieng" → "fieng")."""
    out = []
    for spelling, sound in sounds:
        for m in re.finditer(re.escape(spelling), name):
            out.append(name[: m.start()] + sound + name[m.end():])
    return out


def positives(registry: CommuneRegistry, sounds: tuple[tuple[str, str], ...]) -> list[Example]:
    examples = []
    for info in registry.communes.values():
        for name in info.all_names():
            folded = " ".join(re.findall(r"[a-z0-9]+", fold(name)))
            words = folded.split()
            forms = [(name, "as written"), (folded, "no diacritics"), ("".join(words), "run together"),
                     ("-".join(w.title() for w in words), "hyphenated"), ("".join(w.title() for w in words),
                                                                          "CamelCase"), (name.upper(), "upper case")]
            forms += typo_variants(folded)
            forms += [(v, "by ear") for v in by_ear_variants(folded, sounds)]
            examples += [Example(text, info.name, how) for text, how in forms]
    return examples


def negatives(places: tuple, settings: Settings, corpus_lines: list[str], ours: set[str]) -> list[Example]:
    """Places that are not ours (a district that shares a commune's name is that commune's), and ordinary words."""
    out = [Example(form, None, f"place:{p.kind}") for p in places for form in p.forms]
    out += [Example(fold(form), None, f"place:{p.kind}") for p in places for form in p.forms]
    out = [e for e in out if squeeze(e.text) not in ours]
    words = settings.question_words_path.read_text(encoding="utf-8").splitlines()
    out += [Example(w.strip(), None, "question words") for w in words if w.strip() and not w.startswith("#")]
    glossary = settings.glossary_path.read_text(encoding="utf-8").splitlines()[1:]
    out += [Example(e, None, "glossary") for line in glossary for e in line.split("\t")[0].split("|") if e]
    out += [Example(run, None, "report words") for run in _lowercase_runs(corpus_lines)]
    return out


def _lowercase_runs(lines: list[str]) -> list[str]:
    """Runs of lower-case words of the reports (a capitalised word may be one of our names: it ends a run)."""
    runs: set[str] = set()
    for line in lines:
        for chunk in re.split(r"[^\w\s]|\d", line):
            words: list[str] = []
            for word in [*chunk.split(), "|"]:
                if word[:1].islower():
                    words.append(word)
                    continue
                for i in range(len(words)):
                    runs.update(" ".join(words[i:j]) for j in range(i + 1, min(i + 4, len(words)) + 1))
                words = []
    return sorted(runs)


@dataclass
class Fit:
    threshold: float
    accuracy: float
    positives: int
    negatives: int
    true_positives: int
    false_positives: int
    max_negative: float
    missed: list[str]
    closest_negatives: list[str]

    def as_json(self) -> dict:
        return {"threshold": round(self.threshold, 4), "accuracy": round(self.accuracy, 4),
                "positives": self.positives, "negatives": self.negatives,
                "true_positives": self.true_positives, "false_positives": self.false_positives,
                "max_negative_score": round(self.max_negative, 4), "closest_negatives": self.closest_negatives,
                "missed_positives": self.missed[:40]}


def fit(registry: CommuneRegistry, settings: Settings, corpus_lines: list[str]) -> Fit:
    """Score every example once, then choose the threshold."""
    gazetteer = load_places()
    known = tuple(p for p in gazetteer if p.kind != "commune")  # other communes are held out: unknown
    reader = PlaceReader(registry, places=known, threshold=1.0)
    pos = [e for e in positives(registry, reader.our_table.sounds) if not _is_other_place(e.text, gazetteer)]
    neg = negatives(gazetteer, settings, corpus_lines, set(reader.our_table.keys))
    pos_scores = np.array([_positive_score(reader, e) for e in pos])
    neg_scores = _negative_scores(reader, [e.text for e in neg])
    max_neg = float(neg_scores.max()) if len(neg_scores) else 0.0
    above = pos_scores[pos_scores > max_neg]
    threshold = (max_neg + float(above.min())) / 2 if len(above) else min(1.0, max_neg + 1e-3)
    tp = int((pos_scores >= threshold).sum())
    fp = int((neg_scores >= threshold).sum())
    missed = [f"{e.text} ({e.how})" for e, s in zip(pos, pos_scores, strict=True) if s < threshold]
    worst = sorted(zip(neg_scores, (e.text for e in neg), strict=True), reverse=True)[:10]
    accuracy = (tp + len(neg) - fp) / (len(pos) + len(neg))
    return Fit(threshold, accuracy, len(pos), len(neg), tp, fp, max_neg, missed, [f"{t} ({s:.3f})" for s, t in worst])


def _is_other_place(text: str, places: tuple) -> bool:
    """A typo that spells another real place ("Mường Lát") cannot be asked to mean ours."""
    key = squeeze(text)
    return any(squeeze(f) == key for p in places for f in p.forms)


def _positive_score(reader: PlaceReader, example: Example) -> float:
    """The highest threshold at which the reader still reads exactly this commune (0: never)."""
    _, spans = reader.spans(example.text)
    candidates = sorted({s.score for s in spans if s.commune}, reverse=True)
    for t in candidates:
        if reader.communes(example.text, threshold=t)[0] == [example.commune]:
            return t
    return 0.0


def _negative_scores(reader: PlaceReader, texts: list[str]) -> np.ndarray:
    """For each negative, the highest score at which some run of it would be read as a reported commune.

    All runs of all negatives are scored in one batch (the same runs and scores ``PlaceReader.read`` uses)."""
    per_text = []
    for text in texts:
        words = re.findall(r"[^\W_]+", text)
        per_text.append([(k, marked("".join(words[i:j]))) for i, j, k in reader.runs([fold(w) for w in words])])
    keys = sorted({run for runs in per_text for run in runs})
    scores = {}
    for start in range(0, len(keys), 20000):
        batch = keys[start:start + 20000]
        scored = reader.score_keys([k for k, _ in batch], [t for _, t in batch])
        for run, (s_o, _, s_p, _) in zip(batch, scored, strict=True):
            scores[run] = s_o if s_o >= s_p else 0.0
    return np.array([max((scores[run] for run in runs), default=0.0) for runs in per_text])


def corpus_lines(settings: Settings) -> list[str]:
    return [line for path in sorted(settings.reports_dir.glob("*.txt"))
            for line in path.read_text(encoding="utf-8").splitlines()]


def main(path: Path = MATCH_PATH) -> Fit:
    from assistant.service import Assistant

    settings = Settings(data_dir=DATA_FILES)
    assistant = Assistant.open(settings)
    result = fit(assistant.registry, settings, corpus_lines(settings))
    path.write_text(json.dumps(result.as_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result.as_json(), ensure_ascii=False, indent=1))
    return result


if __name__ == "__main__":
    main()
