"""The ``baocao`` command: index, ask, chat, targets, eval, serve."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from baocao.config import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `baocao targets | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return 0
    except _index_errors() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _index_errors() -> tuple[type[Exception], ...]:
    from index.reader import IndexUnavailable

    return (IndexUnavailable,)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="baocao", description="Chat over the Sơn La commune congress reports.")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("index", help="build or update the index of the reports")
    p.add_argument("paths", nargs="*", help="report files (.txt, .pdf, .docx) to add before indexing")
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
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--auth", help="user:password required for every page and API call")
    p.set_defaults(func=_cmd_serve)
    return parser


def _cmd_index(args: argparse.Namespace) -> int:
    from index.build import build_index
    from index.loaders import ReportError, import_report

    settings = get_settings()
    for path in args.paths:
        try:
            stored = import_report(Path(path), settings.reports_dir, max_bytes=settings.max_upload_bytes)
            print(f"Added {path} as {stored.name}", file=sys.stderr)
        except (ReportError, OSError) as exc:
            print(f"Not added: {exc}", file=sys.stderr)
            return 1
    print(build_index(settings, rebuild=args.rebuild).line())
    return 0


def _assistant():
    from assistant.service import Assistant

    return Assistant.open(get_settings())


def _cmd_ask(args: argparse.Namespace) -> int:
    if args.jsonl:
        from assistant.batch import run_batch

        return run_batch(_assistant(), args.jsonl, args.out)
    if args.question is None:
        print("error: give a question, or --jsonl FILE", file=sys.stderr)
        return 2
    answer = _assistant().ask(args.question, commune=args.commune, period=args.period, mode=args.mode)
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


def _cmd_serve(args: argparse.Namespace) -> int:
    from app import serve

    return serve(host=args.host, port=args.port, auth=args.auth)


if __name__ == "__main__":
    sys.exit(main())
