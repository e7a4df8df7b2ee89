"""Text slices named on the command line: `PATH`, `PATH@first-half`, `PATH@second-half`,
or `PATH@A-B` (lines A to B, 1-based, inclusive). Slices are cut at line ends, so
the training and evaluation parts of one file never share a line."""

from __future__ import annotations

import os
import re


def read_slice(spec: str) -> tuple[str, bytes]:
    """(a short name, the bytes) of a slice spec."""
    path, _, part = spec.partition("@")
    data = open(path, "rb").read()
    name = os.path.basename(path)
    if not part:
        return name, data
    lines = data.splitlines(keepends=True)
    n = len(lines)
    if part == "first-half":
        lo, hi = 0, n // 2
    elif part == "second-half":
        lo, hi = n // 2, n
    else:
        m = re.fullmatch(r"(\d+)-(\d+)", part)
        if not m or int(m.group(1)) < 1 or int(m.group(2)) < int(m.group(1)):
            raise SystemExit(f"bad slice {spec!r}: use PATH, PATH@first-half, PATH@second-half or PATH@A-B (lines, 1-based)")
        lo, hi = int(m.group(1)) - 1, min(n, int(m.group(2)))
    return f"{name}@{part}", b"".join(lines[lo:hi])


def split_lines(data: bytes, fraction: float) -> tuple[bytes, bytes]:
    """Splits at a line end: the first (1 - fraction) of the lines, and the rest."""
    lines = data.splitlines(keepends=True)
    cut = max(1, min(len(lines) - 1, round(len(lines) * (1 - fraction))))
    return b"".join(lines[:cut]), b"".join(lines[cut:])


def shifted(data: bytes, k: int, shifts: int) -> bytes:
    """The text rotated to start k/shifts of the way in (at a line start): other chunk boundaries, same lines."""
    if k == 0 or shifts <= 1:
        return data
    lines = data.splitlines(keepends=True)
    cut = len(lines) * k // shifts
    return b"".join(lines[cut:] + lines[:cut])
