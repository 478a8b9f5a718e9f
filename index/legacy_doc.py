"""Legacy Word ``.doc`` files (Word 97-2003, still common in Vietnamese offices) → text.

No maintained Python library reads the binary .doc format, so a Debian tool converts it:
antiword (``-m UTF-8.txt``: Vietnamese survives; ``-w 0``: one line per paragraph), or catdoc
when antiword is missing or fails. ``make doctools`` installs both. Without either, the file is
refused with the ways to convert it, so nothing is lost.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound-file header every .doc starts with
TIMEOUT_S = 120  # a converter stuck on a damaged file must not hang an upload

# (tool, arguments before the file): tried in this order.
CONVERTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("antiword", ("-m", "UTF-8.txt", "-w", "0")),
    ("catdoc", ("-d", "utf-8", "-w")),
)


class DocError(ValueError):
    """A .doc that cannot be converted; the message says what the user can do."""


def how_to_convert(label: str) -> str:
    return (
        f"{label} is a legacy Word (.doc) file and no converter is installed here; "
        "open it in Word or LibreOffice and save it as .docx (or run: libreoffice --headless --convert-to docx "
        f"'{label}'), then upload the .docx; or install a converter: apt-get install -y antiword catdoc "
        "(make doctools)."
    )


def available_converters() -> list[str]:
    return [tool for tool, _ in CONVERTERS if shutil.which(tool)]


def doc_text(path: Path, label: str) -> str:
    """The text of a .doc, paragraphs on their own lines; DocError when it cannot be read."""
    with Path(path).open("rb") as fh:
        head = fh.read(len(OLE_MAGIC))
    if head != OLE_MAGIC:
        raise DocError(f"{label} is not a Word .doc file; upload the report as .txt, .pdf, .docx or .doc.")
    tools = available_converters()
    if not tools:
        raise DocError(how_to_convert(label))
    reasons: list[str] = []
    for tool in tools:
        text, reason = _run(tool, Path(path))
        if text is not None:
            return text
        reasons.append(f"{tool}: {reason}")
    raise DocError(
        f"{label} could not be converted ({'; '.join(reasons)}); it may be damaged or password-protected: "
        "open it in Word or LibreOffice, save it as .docx and upload that."
    )


def _run(tool: str, path: Path) -> tuple[str | None, str]:
    """(text, "") on success, (None, reason) when the tool fails or finds no text."""
    args = dict(CONVERTERS)[tool]
    try:
        done = subprocess.run([tool, *args, str(path)], capture_output=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return None, f"no result after {TIMEOUT_S} s"
    except OSError as exc:
        return None, exc.strerror or type(exc).__name__
    if done.returncode != 0:
        return None, (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["failed"])[-1][:200]
    text = done.stdout.decode("utf-8", "replace")
    if not any(ch.isalpha() for ch in text):
        return None, "no text found"
    return text, ""
