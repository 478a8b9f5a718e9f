"""Helpers for tests that start a real server process (the app, Chroma, llama.cpp)."""

from __future__ import annotations

import subprocess


def stop(proc: subprocess.Popen) -> None:
    """Stop a server: politely first, then for sure; never leave it running after a test."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)
