"""python3 -m llmzip_train <command> ... (run from tools/train, or with tools/train on PYTHONPATH)."""

from __future__ import annotations

import argparse
import sys

from . import cmd_base, cmd_compare, cmd_eval, cmd_export, cmd_lora, cmd_tokenize


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="llmzip_train", description="llmzip's training tools")
    sub = p.add_subparsers(dest="command", required=True)
    cmd_lora.add_arguments(sub.add_parser("lora", help="fine-tune and export a LoRA adapter (GGUF) for a base model"))
    cmd_eval.add_arguments(sub.add_parser("eval", help="bits per byte of text under the torch model (checks agreement with llama.cpp)"))
    cmd_base.add_arguments(sub.add_parser("base", help="train llmzip's own base model: tokenizer, tokens, training, GGUF export"))
    cmd_tokenize.add_arguments(sub.add_parser("tokenize", help="token ids of a file under an llmzip BPE tokenizer (JSON)"))
    cmd_export.add_arguments(sub.add_parser("export", help="write the GGUF of a base-model checkpoint"))
    cmd_compare.add_arguments(sub.add_parser("compare", help="a model against bzip2 -9 and xz -9e on files (exit 0 only if it beats both on every one)"))
    args = p.parse_args(argv)
    commands = {"lora": cmd_lora.run, "eval": cmd_eval.run, "base": cmd_base.run, "tokenize": cmd_tokenize.run, "export": cmd_export.run,
                "compare": cmd_compare.run}
    result = commands[args.command](args)
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
