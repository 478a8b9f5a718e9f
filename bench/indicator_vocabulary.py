"""List the indicator phrases the fact extractor finds across the reports: the vocabulary the
lexicon (``data/indicators.tsv``) is curated from.

    python bench/indicator_vocabulary.py [--min-communes 2] [--unmatched] [--ngrams]

Prints, for each folded indicator phrase (or, with ``--ngrams``, each 2-5 word run inside the
indicators), how many communes and records use it, its current ``indicator_key`` and one example
as written. Phrases shared by several communes are the candidates for a common key.
"""

from __future__ import annotations

import argparse
import re
from collections import defaultdict

from baocao.config import get_settings
from index.reader import open_index
from index.text import fold


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-communes", type=int, default=2)
    parser.add_argument("--unmatched", action="store_true", help="only indicators without a key")
    parser.add_argument("--ngrams", action="store_true", help="count 2-5 word runs instead of whole phrases")
    args = parser.parse_args()
    facts = open_index(get_settings()).facts
    communes: dict[str, set[str]] = defaultdict(set)
    count: dict[str, int] = defaultdict(int)
    example: dict[str, str] = {}
    keys: dict[str, set[str]] = defaultdict(set)
    for f in facts:
        if args.unmatched and f["indicator_key"]:
            continue
        phrase = _norm(f["indicator"])
        grams = _ngrams(phrase) if args.ngrams else [phrase]
        for g in grams:
            communes[g].add(f["commune"])
            count[g] += 1
            example.setdefault(g, f["indicator"])
            keys[g].add(f["indicator_key"] or "-")
    rows = sorted((p for p in communes if len(communes[p]) >= args.min_communes and p),
                  key=lambda p: (-len(communes[p]), -count[p], p))
    for p in rows:
        print(f"{len(communes[p])}\t{count[p]}\t{','.join(sorted(keys[p]))}\t{p}\t{example[p]}")


def _ngrams(phrase: str) -> list[str]:
    words = phrase.split()
    return sorted({" ".join(words[i:i + n]) for n in range(2, 6) for i in range(len(words) - n + 1)})


if __name__ == "__main__":
    main()
