"""`tokenize`: the token ids an llmzip BPE tokenizer gives a file (one JSON line), to compare with llama.cpp."""

from __future__ import annotations

import argparse
import json

from .tokenizer import Tokenizer


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tokenizer", required=True, help="tokenizer.json written by the base command")
    p.add_argument("file")


def run(args: argparse.Namespace) -> list[int]:
    tok = Tokenizer.load(args.tokenizer)
    with open(args.file, "rb") as f:
        ids = tok.encode(f.read().decode("utf-8"))
    print(json.dumps({"tokens": ids}))
    return ids
