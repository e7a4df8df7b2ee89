"""`eval`: bits the torch model (optionally with a LoRA adapter) spends on text, chunked and
tokenized exactly as llmzip does. Agreement with `engine.mjs measure` checks that the torch
forward pass is llama.cpp's."""

from __future__ import annotations

import argparse
import json
import os
import tempfile

import torch

from . import data, lora, textspec
from .llama import load_gguf, token_bits


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", required=True, help="GGUF model")
    p.add_argument("--adapter", action="append", default=[], help="LoRA adapter GGUF (scale 1; repeatable)")
    p.add_argument("--ctx", type=int, default=0, help="tokens per chunk (default: what llmzip uses for the model)")
    p.add_argument("texts", nargs="+", metavar="SPEC", help="PATH, PATH@first-half, PATH@second-half or PATH@A-B")


def run(args: argparse.Namespace) -> list[dict]:
    torch.set_num_threads(int(os.environ.get("LLMZIP_TRAIN_THREADS", "1")))
    model, _ = load_gguf(args.model)
    if len(args.adapter) > 1:
        raise SystemExit("eval takes one adapter")
    for a in args.adapter:
        lora.load_into(model, a)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.texts:
            name, blob = textspec.read_slice(spec)
            f = os.path.join(tmp, "text")
            with open(f, "wb") as out:
                out.write(blob)
            info, chunks = data.tokenize_files(args.model, [f], os.path.join(tmp, "tok"), args.ctx or None)
            bits, _ = token_bits(model, info["startToken"], [c for _, c in chunks])
            coded = sum(n for n, _ in chunks)
            row = {"text": name, "bytes": len(blob), "codedBytes": coded, "tokens": sum(len(c) for _, c in chunks), "bits": bits, "bitsPerByte": bits / coded if coded else None}
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows
