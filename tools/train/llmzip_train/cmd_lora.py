"""`lora`: fine-tune a LoRA adapter for a GGUF llama model on domain text and export it."""

from __future__ import annotations

import argparse
import json
import os
import random

import numpy as np
import torch

from . import data, gguf, lora, textspec
from .llama import load_gguf
from .train import Schedule, batch_from_chunks, evaluate, fit


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", required=True, help="base model GGUF (llama architecture)")
    p.add_argument("--train", action="append", required=True, metavar="SPEC", help="training text: PATH, PATH@first-half, PATH@second-half or PATH@A-B (repeatable)")
    p.add_argument("--eval", action="append", default=[], metavar="SPEC", help="held-out in-domain text, measured with and without the adapter (repeatable)")
    p.add_argument("--ood", action="append", default=[], metavar="SPEC", help="out-of-domain text, measured the same way (repeatable)")
    p.add_argument("--out", required=True, help="adapter GGUF to write")
    p.add_argument("--work", required=True, help="folder for token files, the log and the report")
    p.add_argument("--targets", default="attn,ffn,output", help="comma-separated: attn, ffn, attn_q ... ffn_down, output, token_embd (default attn,ffn,output)")
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--alpha", type=float, default=16.0)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--batch", type=int, default=8, help="chunks per step")
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--shifts", type=int, default=4, help="tokenize the training text this many times, each rotated to start elsewhere, so chunks start at other lines")
    p.add_argument("--val-fraction", type=float, default=0.1, help="last part of the training text kept for choosing the best step (not trained on)")
    p.add_argument("--eval-every", type=int, default=50)
    p.add_argument("--ctx", type=int, default=0, help="tokens per chunk (default: what llmzip uses for the model)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", default="", help="adapter name recorded in the GGUF (general.name)")
    p.add_argument("--no-measure", action="store_true", help="skip measuring with llmzip's engine after export")


def _write(work: str, name: str, blob: bytes) -> str:
    path = os.path.join(work, name)
    with open(path, "wb") as f:
        f.write(blob)
    return path


def run(args: argparse.Namespace) -> dict:
    torch.set_num_threads(int(os.environ.get("LLMZIP_TRAIN_THREADS", "1")))
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    os.makedirs(args.work, exist_ok=True)
    log_path = os.path.join(args.work, "train.log")
    logf = open(log_path, "a")

    def log(msg: str) -> None:
        print(msg, flush=True)
        logf.write(msg + "\n")
        logf.flush()

    # Training text (minus a validation tail), cut and tokenized as llmzip would, at several rotations.
    train_text = b"".join(textspec.read_slice(s)[1] for s in args.train)
    fit_text, val_text = textspec.split_lines(train_text, args.val_fraction)
    ctx = args.ctx or None
    train_chunks: list[np.ndarray] = []
    start = 0
    for k in range(max(1, args.shifts)):
        f = _write(args.work, f"train-{k}.txt", textspec.shifted(fit_text, k, args.shifts))
        info, chunks = data.tokenize_files(args.base, [f], os.path.join(args.work, f"train-{k}.tok"), ctx)
        start = info["startToken"]
        train_chunks += [c for _, c in chunks]
    val_file = _write(args.work, "val.txt", val_text)
    _, val = data.tokenize_files(args.base, [val_file], os.path.join(args.work, "val.tok"), ctx)
    val_bytes = sum(n for n, _ in val)
    log(f"train: {len(fit_text)} bytes x {args.shifts} rotations = {len(train_chunks)} chunks, {sum(len(c) for c in train_chunks)} tokens; val: {val_bytes} bytes, {len(val)} chunks")

    model, _ = load_gguf(args.base)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    params = lora.attach(model, targets, args.rank, args.alpha, args.seed)
    log(f"LoRA rank {args.rank} alpha {args.alpha} on {','.join(targets)}: {sum(p.numel() for p in params)} parameters")

    val_batches = [batch_from_chunks([c for _, c in val[i:i + 16]], start) for i in range(0, len(val), 16)]
    base_val = evaluate(model, val_batches) / val_bytes
    log(f"val before training: {base_val:.4f} bits/byte")
    rng = np.random.default_rng(args.seed)

    def next_batch(_step: int):
        idx = rng.choice(len(train_chunks), size=min(args.batch, len(train_chunks)), replace=False)
        return batch_from_chunks([train_chunks[i] for i in idx], start)

    result = fit(
        model, params, next_batch,
        Schedule(steps=args.steps, lr=args.lr, warmup=args.warmup, weight_decay=args.weight_decay),
        on_eval=lambda _s: evaluate(model, val_batches) / val_bytes,
        eval_every=args.eval_every, log=log,
    )
    log(f"best val {result['best_val']:.4f} bits/byte at step {result['best_step']} ({result['seconds']:.0f} s)")

    meta = {"general.name": gguf.s(args.name or os.path.splitext(os.path.basename(args.out))[0])}
    n = lora.export(model, args.out, args.alpha, meta)
    log(f"wrote {args.out}: {n} tensors, {os.path.getsize(args.out)} bytes")

    report = {
        "adapter": os.path.basename(args.out),
        "base": os.path.basename(args.base),
        "train": args.train, "eval": args.eval, "ood": args.ood,
        "targets": targets, "rank": args.rank, "alpha": args.alpha, "steps": args.steps, "batch": args.batch,
        "lr": args.lr, "shifts": args.shifts, "seed": args.seed,
        "val_bits_per_byte": {"base": base_val, "adapter": result["best_val"], "best_step": result["best_step"]},
        "measured": [],
    }
    if not args.no_measure:
        for kind, specs in (("eval", args.eval), ("ood", args.ood)):
            for spec in specs:
                name, blob = textspec.read_slice(spec)
                f = _write(args.work, f"{kind}-{len(report['measured'])}.txt", blob)
                ctx_args = ["--ctx", str(args.ctx)] if args.ctx else []
                without = data.engine(["measure", "--model", args.base, *ctx_args, f])[0]
                with_ad = data.engine(["measure", "--model", args.base, "--adapter", args.out, *ctx_args, f])[0]
                row = {"kind": kind, "text": name, "bytes": without["bytes"], "bpb_base": without["bitsPerByte"], "bpb_adapter": with_ad["bitsPerByte"],
                       "reduction": 1 - with_ad["bitsPerByte"] / without["bitsPerByte"], "round_trip": without["roundTrip"] and with_ad["roundTrip"]}
                report["measured"].append(row)
                log(f"{kind} {name}: {row['bpb_base']:.3f} -> {row['bpb_adapter']:.3f} bits/byte ({100 * row['reduction']:.1f}% fewer), round trip {'ok' if row['round_trip'] else 'FAILED'}")
    with open(os.path.join(args.work, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
    logf.close()
    return report
