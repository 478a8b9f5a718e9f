"""Fit the answer/refuse model on labelled questions, and measure it by leave-one-commune-out.

``baocao fit`` writes ``data/answer_model.json``; ``baocao eval --cv`` fits on four communes'
questions and scores the fifth, for each commune in turn, so the score says how the answerer
does on a report it was not fitted on.

How it is fitted:
1. Every labelled question is asked once with tracing on: the candidate windows the answerer
   chose from, with their features, are kept.
2. A window is a positive example when it stands at the item's evidence (file and line, or
   the quote) and holds one of its expected figures; every window of an unanswerable item and
   every other window is a negative one.
3. A logistic regression (scikit-learn) learns the weights; its strength C is chosen by the
   same leave-one-commune-out split.
4. The threshold: each training question is answered at threshold 0 and its confidence kept;
   the threshold is the one that maximises correct answers minus ``WRONG_COST`` times wrong
   ones (answered, but not correct) — a wrong figure with a citation costs more than a refusal.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from assistant.features import FEATURES
from assistant.model import AnswerModel
from evals.scoring import citation_supports, group_matched, is_unanswerable, item_correct, squash, summarize

WRONG_COST = 3.0  # a confident wrong figure is worse than a refusal: how much worse is a policy, stated here
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
GATE_GRID = (0.0, 0.5)  # min topic coverage (with the most specific term) a window needs to answer
DEFAULT_SETS = ("evals/public.jsonl", "evals/dev.jsonl", "evals/extra.jsonl")


@dataclass
class Example:
    """The candidate windows of one labelled question: features and labels."""

    item: dict
    x: np.ndarray  # (n_windows, n_features)
    y: np.ndarray  # (n_windows,) 1 = this window answers the question


# --- collecting --------------------------------------------------------------------------------


def collect(assistant, items: Sequence[dict]) -> list[Example]:
    """Ask each item once with tracing on; label the windows the answerer chose from."""
    out = []
    for item in tqdm(items, desc="collect", unit="q", file=sys.stderr):
        assistant.trace = []
        try:
            assistant.ask(item["question"], item.get("history"))
            rows = [(w.features, _label(item, w)) for _, windows, _ in assistant.trace for w in windows]
        finally:
            assistant.trace = None
        if rows:
            out.append(Example(item, np.array([r[0] for r in rows], dtype=float),
                               np.array([r[1] for r in rows], dtype=int)))
    return out


def _label(item: dict, window) -> int:
    if is_unanswerable(item) or not item.get("evidence"):
        return 0
    p = window.passage
    cite = {"file": p.file, "line_start": p.line_start, "line_end": p.line_end, "text": window.text}
    if not any(citation_supports(cite, ev) and _window_holds_quote(window.text, p, ev) for ev in item["evidence"]):
        return 0
    groups = item.get("must_include") or []
    return int(not groups or any(group_matched(window.text, g) for g in groups))


def _window_holds_quote(text: str, passage, evidence: dict) -> bool:
    """A sentence window of a long paragraph only counts if it is the part that holds the quote."""
    quote = squash(evidence.get("quote") or "")
    if not quote or text == passage.text:
        return True
    window = squash(text)
    return quote[:40] in window or window[:40] in quote


# --- fitting -----------------------------------------------------------------------------------


def fit_weights(examples: Sequence[Example], c: float) -> AnswerModel:
    x = np.vstack([e.x for e in examples])
    y = np.concatenate([e.y for e in examples])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    clf.fit((x - mean) / scale, y)
    return AnswerModel(FEATURES, tuple(mean.tolist()), tuple(scale.tolist()), tuple(clf.coef_[0].tolist()),
                       float(clf.intercept_[0]), 0.0)


def fit_threshold(assistant, model: AnswerModel, items: Sequence[dict]) -> tuple[float, float, dict]:
    """The coverage gate and probability threshold that maximise correct − WRONG_COST × wrong."""
    best = (1.0, 0.0, -1e9)
    for gate in GATE_GRID:
        outcomes = [_outcome(assistant, replace(model, min_coverage=gate), it) for it in items]
        candidates = sorted({round(conf, 4) for conf, _, _ in outcomes if conf is not None} | {1.0})
        for t in candidates:
            correct = wrong = 0
            for conf, right, unanswerable in outcomes:
                if conf is not None and conf >= t:
                    correct += right
                    wrong += not right
                else:
                    correct += unanswerable
            utility = correct - WRONG_COST * wrong
            if utility > best[2]:
                best = (t, gate, utility)
    return best[0], best[1], {"utility": best[2], "n": len(items)}


def _outcome(assistant, model: AnswerModel, item: dict) -> tuple[float | None, bool, bool]:
    """(confidence if answered at threshold 0, correct if answered, unanswerable)."""
    assistant.model = replace(model, threshold=0.0)
    answer = assistant.ask(item["question"], item.get("history"))
    conf = answer.confidence if answer.status == "answered" else None
    return conf, item_correct(item, answer.to_json(item["id"])), is_unanswerable(item)


def fit_model(assistant, examples: Sequence[Example], c: float) -> AnswerModel:
    model = fit_weights(examples, c)
    threshold, gate, info = fit_threshold(assistant, model, [e.item for e in examples])
    return replace(model, threshold=threshold, min_coverage=gate, meta={"C": c, "items": len(examples), **info})


def choose_c(examples: Sequence[Example]) -> float:
    """C by leave-one-commune-out log-loss of the window labels (cheap: no re-asking)."""
    from sklearn.metrics import log_loss

    groups = [_group(e.item) for e in examples]
    best_c, best_loss = C_GRID[0], float("inf")
    for c in C_GRID:
        losses = []
        for commune in sorted({g for gs in groups for g in gs}):
            train = [e for e, g in zip(examples, groups, strict=True) if commune not in g]
            test = [e for e, g in zip(examples, groups, strict=True) if commune in g]
            if not train or not test:
                continue
            model = fit_weights(train, c)
            x = np.vstack([e.x for e in test])
            y = np.concatenate([e.y for e in test])
            p = np.array([model.probability(list(row)) for row in x])
            losses.append(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6), labels=[0, 1]))
        loss = float(np.mean(losses)) if losses else float("inf")
        if loss < best_loss:
            best_c, best_loss = c, loss
    return best_c


def _group(item: dict) -> set[str]:
    return set(item.get("communes") or ["?"])


# --- cross-validation --------------------------------------------------------------------------


def cross_validate(assistant, examples: Sequence[Example], c: float) -> dict:
    """Fit on the other communes' items, answer the held-out commune's, for each commune."""
    groups = [_group(e.item) for e in examples]
    results: dict[str, dict] = {}
    folds = {}
    for commune in sorted({g for gs in groups for g in gs}):
        train = [e for e, g in zip(examples, groups, strict=True) if commune not in g]
        test = [e.item for e, g in zip(examples, groups, strict=True) if commune in g and len(g) == 1]
        if not train or not test:
            continue
        model = fit_model(assistant, train, c)
        assistant.model = model
        for item in test:
            results[item["id"]] = assistant.ask(item["question"], item.get("history")).to_json(item["id"])
        folds[commune] = {"threshold": model.threshold, "min_coverage": model.min_coverage, "n": len(test)}
    items = [e.item for e in examples if e.item["id"] in results]
    return {"summary": summarize(items, results), "folds": folds, "items": items, "results": results}


# --- CLI ---------------------------------------------------------------------------------------


def add_fit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="sets", action="extend", nargs="+", type=Path, metavar="FILE",
                        help=f"labelled sets to fit on (default: {' '.join(DEFAULT_SETS)})")
    parser.add_argument("--out", type=Path, default=None, help="where to write the model (default: the config's)")
    parser.add_argument("--cv", action="store_true", help="also report leave-one-commune-out scores")


def run_fit_command(args: argparse.Namespace) -> int:
    from assistant.service import Assistant
    from baocao.config import PROJECT_ROOT
    from evals.runner import checked_sets, resolve_set_path

    paths = [resolve_set_path(p) for p in (args.sets or [PROJECT_ROOT / s for s in DEFAULT_SETS])]
    items, _ = checked_sets(paths, force=True)  # a line that fails the checker is skipped, and said so
    assistant = Assistant.open(with_model=False)  # the shipped model may be fitted on other features
    examples = collect(assistant, items)
    c = choose_c(examples)
    report = cross_validate(assistant, examples, c) if args.cv else None
    model = fit_model(assistant, examples, c)
    if report:
        model.meta["cv"] = {k: report["summary"].get(k) for k in ("accuracy", "cited_accuracy", "n")}
        print(format_cv(report))
    out = args.out or assistant.settings.answer_model_path
    model.save(out)
    print(f"fitted on {len(examples)} questions (C={c}, threshold {model.threshold:.3f}, "
          f"coverage gate {model.min_coverage:.2f}) → {out}")
    return 0


def format_cv(report: dict) -> str:
    s = report["summary"]
    results = report["results"]
    wrong = sum(1 for it in report["items"]
                if results[it["id"]]["status"] == "answered" and not item_correct(it, results[it["id"]]))
    lines = [f"Leave-one-commune-out CV: {s['n']} items, accuracy {s['accuracy']:.1%}, "
             f"cited {s['cited_accuracy']:.1%}, answered-wrong {wrong / max(s['n'], 1):.1%}"]
    for commune, fold in report["folds"].items():
        lines.append(f"  held out {commune}: {fold['n']} items, threshold {fold['threshold']:.3f}, "
                     f"coverage gate {fold['min_coverage']:.2f}")
    return "\n".join(lines)
