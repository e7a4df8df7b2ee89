"""Token data: chunk files written by engine.mjs, and running that helper."""

from __future__ import annotations

import glob
import json
import lzma
import os
import shutil
import subprocess

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINE_MJS = os.path.join(os.path.dirname(HERE), "engine.mjs")


def read_chunks(path: str) -> list[tuple[int, np.ndarray]]:
    """(byte length, tokens) of every chunk in a file written by `engine.mjs tokens`."""
    raw = open(path, "rb").read()
    out = []
    pos = 0
    while pos < len(raw):
        nbytes, ntok = np.frombuffer(raw, dtype="<u4", count=2, offset=pos)
        pos += 8
        toks = np.frombuffer(raw, dtype="<i4", count=int(ntok), offset=pos).astype(np.int64)
        pos += 4 * int(ntok)
        out.append((int(nbytes), toks))
    return out


def node_binary() -> str:
    node = os.environ.get("NODE") or shutil.which("node")
    if not node:
        raise SystemExit("node is needed to tokenize with llmzip's engine (set NODE=/path/to/node)")
    return node


def engine(args: list[str]) -> list[dict]:
    """Runs engine.mjs and returns its JSON lines."""
    res = subprocess.run([node_binary(), ENGINE_MJS, *args], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"engine.mjs {args[0]} failed: {res.stderr.strip() or res.stdout.strip()}")
    return [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


def tokenize_files(model: str, files: list[str], out: str, ctx: int | None = None) -> tuple[dict, list[tuple[int, np.ndarray]]]:
    """Cuts and tokenizes files exactly as `llmzip compress` would, with the model's own tokenizer."""
    args = ["tokens", "--model", model, "--out", out, *files]
    if ctx:
        args[1:1] = ["--ctx", str(ctx)]
    info = engine(args)[0]
    return info, read_chunks(out)


def expand(patterns: list[str]) -> list[str]:
    """Files named by paths or glob patterns, sorted, each once."""
    out: list[str] = []
    for pat in patterns:
        hits = sorted(glob.glob(pat)) or ([pat] if os.path.exists(pat) else [])
        if not hits:
            raise SystemExit(f"no file matches {pat}")
        out += [h for h in hits if h not in out]
    return out


def read_text(path: str, max_bytes: int = 0) -> str:
    """A training shard (.txt or .txt.xz) as text; with max_bytes, only its beginning, cut at a line end."""
    opener = lzma.open if path.endswith(".xz") else open
    with opener(path, "rb") as f:
        raw = f.read(max_bytes) if max_bytes else f.read()
    if max_bytes and len(raw) == max_bytes:
        cut = raw.rfind(b"\n")
        raw = raw[: cut + 1] if cut >= 0 else raw
    return raw.decode("utf-8", errors="strict")
