"""`export`: write the GGUF of a base-model checkpoint (e.g. in another precision) without training."""

from __future__ import annotations

import argparse
import os

import torch

from . import export
from .llama import Llama, LlamaConfig
from .tokenizer import Tokenizer


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--work", required=True, help="the base command's --work folder (tokenizer.json, ckpt.pt)")
    p.add_argument("--out", required=True)
    p.add_argument("--qtype", default="q8_0", choices=sorted(export.FILE_TYPES))
    p.add_argument("--name", default="llmzip-en")


def run(args: argparse.Namespace) -> dict:
    ck = torch.load(os.path.join(args.work, "ckpt.pt"), map_location="cpu")
    model = Llama(LlamaConfig(**ck["cfg"]))
    model.load_state_dict(ck["model"])
    tok = Tokenizer.load(os.path.join(args.work, "tokenizer.json"))
    types = export.model_gguf(model.float(), tok, args.out, args.qtype, args.name)
    print(f"wrote {args.out} from step {ck['step']} ({os.path.getsize(args.out)} bytes, {sorted(set(types.values()))})")
    return types
