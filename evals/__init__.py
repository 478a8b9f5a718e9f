"""Eval sets (JSONL, format in FORMAT.md), the scorer and the runner."""
