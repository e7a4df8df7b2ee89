"""Token data: chunk files written by engine.mjs, and running that helper."""

from __future__ import annotations

import json
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
