"""The ``baocao`` command: index, ask, chat, targets, eval, serve."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path
from typing import NoReturn

from baocao.config import SettingError, get_settings


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one ``error:`` line (usage is one ``--help`` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see: {self.prog} --help)\n")


def port_number(text: str) -> int:
    """A TCP port for ``--port``: 99999 or "http" is refused here, not by a traceback from the server."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        get_settings()  # a bad BAOCAO_* value is reported before any work starts
        return int(args.func(args) or 0)
    except SettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `baocao targets | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return 0
    except _index_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a file or a port the command needed; its message names it
        print(f"error: {exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}", file=sys.stderr)
        return 1
    except Exception as exc:  # the last resort: one line, never a traceback (BAOCAO_DEBUG=1 shows it)
        if os.environ.get("BAOCAO_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (BAOCAO_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return 1


def _index_errors() -> tuple[type[Exception], ...]:
    from index.reader import IndexUnavailable

    return (IndexUnavailable,)


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="baocao", description="Chat over the Sơn La commune congress reports.")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("index", help="build or update the index of the reports")
    p.add_argument("paths", nargs="*", help="report files (.txt, .pdf, .docx, .doc) to add before indexing")
    p.add_argument("--commune", help="the commune the added files are about (default: read from their text)")
    p.add_argument("--rebuild", action="store_true", help="rebuild even if nothing changed")
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser("ask", help="answer a question (or a JSONL batch) with cited passages")
    p.add_argument("question", nargs="?", help="the question")
    p.add_argument("--json", action="store_true", help="print the JSON answer")
    p.add_argument("--commune", help="only this commune's report")
    p.add_argument("--period", choices=["2020-2025", "2025-2030"], help="only this period")
    p.add_argument("--mode", choices=["extractive", "llm"], help="answerer (default: extractive unless an LLM is set)")
    p.add_argument("--jsonl", type=Path, help="batch: one {id, question, history?} object per line")
    p.add_argument("--out", type=Path, help="batch output file (default: standard output)")
    p.set_defaults(func=_cmd_ask)

    p = sub.add_parser("chat", help="a conversation in the terminal (follow-ups use what was said)")
    p.set_defaults(func=_cmd_chat)

    p = sub.add_parser("targets", help="print the extracted 2025-2030 target records")
    p.add_argument("--commune")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(func=_cmd_targets)

    p = sub.add_parser("facts", help="print the fact records: targets, results and profile figures")
    p.add_argument("--period", choices=["2025-2030", "2020-2025", "profile"])
    p.add_argument("--commune")
    p.add_argument("--indicator", help="an indicator_key of data/indicators.tsv (e.g. forest_cover)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.set_defaults(func=_cmd_facts)

    from evals.runner import add_eval_arguments, run_eval_command

    p = sub.add_parser("eval", help="score the eval set(s)")
    add_eval_arguments(p)
    p.set_defaults(func=run_eval_command)

    from evals.fit import add_fit_arguments, run_fit_command

    p = sub.add_parser("fit", help="fit the answer/refuse model on labelled questions (data/answer_model.json)")
    add_fit_arguments(p)
    p.set_defaults(func=run_fit_command)

    p = sub.add_parser("serve", help="start the Gradio app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=port_number, default=7860)
    p.add_argument("--auth", help="user:password required for every page and API call")
    p.set_defaults(func=_cmd_serve)
    return parser


def _cmd_index(args: argparse.Namespace) -> int:
    from index.build import build_index
    from index.communes import clean_commune_name, save_user_commune
    from index.loaders import ReportError, convert_to_utf8, import_report, list_reports

    settings = get_settings()
    try:  # checked before anything is imported: a bad name loses nothing
        commune = clean_commune_name(args.commune) if args.commune is not None else None
    except ValueError as exc:
        print(f"Not added: {exc}", file=sys.stderr)
        return 1
    if commune and not args.paths:
        print("error: --commune names the commune of the files given: baocao index FILE --commune NAME",
              file=sys.stderr)
        return 2
    for path in args.paths:
        notes: list[str] = []
        try:
            stored = import_report(Path(path), settings.reports_dir, max_bytes=settings.max_upload_bytes, notes=notes)
            save_user_commune(stored, commune)
            extra = [*notes, f"commune {commune}"] if commune else notes
            print(f"Added {path} as {stored.name}" + "".join(f" ({n})" for n in extra), file=sys.stderr)
        except (ReportError, OSError) as exc:
            print(f"Not added: {exc}", file=sys.stderr)
            return 1
    for report in list_reports(settings.reports_dir):  # a report copied in by hand in a legacy encoding
        try:
            note = convert_to_utf8(report)
        except ReportError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if note:
            print(f"Converted: {note}", file=sys.stderr)
    print(build_index(settings, rebuild=args.rebuild).line())
    return 0


def _assistant():
    from assistant.service import Assistant

    return Assistant.open(get_settings())


def _cmd_ask(args: argparse.Namespace) -> int:
    if args.jsonl:
        from assistant.batch import check_paths, run_batch

        problem = check_paths(args.jsonl, args.out)  # before the index is opened: fail in milliseconds
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        return run_batch(_assistant(), args.jsonl, args.out)
    if args.question is None:
        print("error: give a question, or --jsonl FILE", file=sys.stderr)
        return 2
    if args.out:
        print("error: --out is for batches; use it with --jsonl FILE", file=sys.stderr)
        return 2
    assistant = _assistant()
    if args.commune and not assistant.registry.owner_of(args.commune):
        print(f"error: no report for commune {args.commune!r}; known: {', '.join(assistant.registry.names())}",
              file=sys.stderr)
        return 2
    answer = assistant.ask(args.question, commune=args.commune, period=args.period, mode=args.mode)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        print(_render(answer))
    return 0 if answer.status != "error" else 2


def _render(answer) -> str:
    lines = [answer.answer, ""]
    for c in answer.citations:
        lines.append(f"[{c.n}] {c.file}:{c.line_start}-{c.line_end}  {c.section}")
    lines.append(f"({answer.status}, {answer.latency_ms:.0f} ms)")
    return "\n".join(lines)


def _cmd_chat(args: argparse.Namespace) -> int:
    assistant = _assistant()
    history: list[dict] = []
    print("Ask about the reports (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = input("> ").strip()
        except EOFError:
            break
        if not question:
            break
        answer = assistant.ask(question, history)
        print(_render(answer))
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.answer}]
    return 0


def _cmd_targets(args: argparse.Namespace) -> int:
    assistant = _assistant()
    if args.commune and not assistant.registry.owner_of(args.commune):
        print(f"error: no report for commune {args.commune!r}; known: {', '.join(assistant.registry.names())}",
              file=sys.stderr)
        return 1
    records = assistant.targets(args.commune)
    if args.format == "json":
        print(json.dumps(records, ensure_ascii=False, indent=2))
        return 0
    columns = ["commune", "group", "number", "indicator", "value", "unit", "file", "line_start", "line_end"]
    if args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)
        return 0
    for r in records:
        print(f"{r['commune']:<12} {r['number']:>3}  {r['indicator'][:60]:<60}  {r['value'][:40]:<40} "
              f"{r['file']}:{r['line_start']}")
    return 0


FACT_COLUMNS = ["id", "commune", "unit", "period", "indicator_key", "indicator", "indicator_en", "values", "plan",
                "ratio", "assessment", "source", "file", "line_start", "line_end", "section", "text"]


def _cmd_facts(args: argparse.Namespace) -> int:
    assistant = _assistant()
    if args.commune and not assistant.registry.owner_of(args.commune):
        print(f"error: no report for commune {args.commune!r}; known: {', '.join(assistant.registry.names())}",
              file=sys.stderr)
        return 1
    records = assistant.facts(args.period, args.commune, args.indicator)
    if args.format == "json":
        print(json.dumps(records, ensure_ascii=False, indent=2))
        return 0
    if args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=FACT_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for r in records:
            writer.writerow({**r, "values": " | ".join(v["text"] for v in r["values"]),
                             "plan": (r["plan"] or {}).get("text") or ""})
        return 0
    for r in records:
        values = "; ".join(v["text"] for v in r["values"])
        print(f"{r['commune']:<11} {r['period']:<9} {(r['indicator_key'] or '-'):<22} {r['indicator'][:50]:<50} "
              f"{values[:30]:<30} {r['file']}:{r['line_start']}-{r['line_end']}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from app import serve

    return serve(host=args.host, port=args.port, auth=args.auth)


if __name__ == "__main__":
    sys.exit(main())
