"""`base`: llmzip's own general-English model, from raw text to a GGUF with the tokenizer inside.

One command runs every stage; each stage leaves its result in --work and is
skipped when that result is already there, and training resumes from the
last checkpoint, so the same command can be run again after an interruption
(or in several time-limited pieces, with --time-limit):

  1. tokenizer.json  byte-level BPE fitted on a sample of the training text
  2. train.bin, val.bin  the text tokenized (uint16/uint32), val = the last
     --val-fraction of every shard (cut at a line end), never trained on
  3. ckpt.pt  model + optimizer state, written every --checkpoint-every steps
  4. --out  the GGUF (Q8_0 by default), written at the end of training
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time

import numpy as np
import torch

from . import data, export, tokenizer
from .llama import Llama, LlamaConfig
from .train import Schedule, evaluate, fit

PRESETS = {
    # About 14M parameters: 15 MB at Q8_0 (limit 16 MB), 1024 tokens of context.
    "real": dict(vocab=8192, n_embd=384, n_layer=7, n_head=6, n_head_kv=2, n_ff=1024, ctx=1024,
                 steps=6000, batch=64, lr=1.5e-3, warmup=300, weight_decay=0.1,
                 tokenizer_bytes=48_000_000, val_fraction=0.005, eval_every=500, eval_batches=40, checkpoint_every=500),
    # The shipped default model (models/llmzip-en.md): 5.8M parameters, 6.3 MB at Q8_0, what two
    # shared CPU cores trained in about 2 hours with bf16 autocast (13M tokens). The shape won an
    # equal-time pilot against a 9.1M-parameter, 8192-token one (tools/train/README.md); --steps
    # sets the budget.
    "cpu": dict(vocab=4096, n_embd=256, n_layer=6, n_head=4, n_head_kv=2, n_ff=768, ctx=512,
                steps=3200, batch=8, lr=2e-3, warmup=200, weight_decay=0.1,
                tokenizer_bytes=20_000_000, val_fraction=0.005, eval_every=250, eval_batches=8, checkpoint_every=50),
    # Seconds on one CPU core: exercises every stage, predicts nothing well.
    "smoke": dict(vocab=300, n_embd=32, n_layer=2, n_head=2, n_head_kv=1, n_ff=64, ctx=64,
                  steps=20, batch=4, lr=3e-3, warmup=2, weight_decay=0.0,
                  tokenizer_bytes=100_000, val_fraction=0.1, eval_every=10, eval_batches=4, checkpoint_every=10),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", choices=sorted(PRESETS), default="real", help="shape and schedule (individual options below override it)")
    p.add_argument("--data", action="append", required=True, metavar="GLOB", help="training text: .txt or .txt.xz files (repeatable)")
    p.add_argument("--work", required=True, help="folder for the tokenizer, token files, checkpoint and log")
    p.add_argument("--out", required=True, help="GGUF to write when training ends")
    p.add_argument("--qtype", default="q8_0", choices=sorted(export.FILE_TYPES))
    p.add_argument("--name", default="llmzip-en", help="general.name of the model")
    p.add_argument("--max-bytes", type=int, default=0, help="read at most this many bytes of each file (smoke runs)")
    p.add_argument("--device", default="auto", help="cuda, cpu or auto")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--time-limit", type=float, default=0, help="stop after this many minutes of training (checkpointed; run again to resume)")
    p.add_argument("--stop-after", type=int, default=0, help="stop at this step (checkpointed; the schedule still runs to --steps): pilot runs")
    p.add_argument("--precision", default="auto", choices=("auto", "bf16", "fp32"),
                   help="bf16 autocast (auto: on CUDA, and on CPUs with AVX512-BF16 or AMX) or plain fp32")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: LLMZIP_TRAIN_THREADS, else every core)")
    for k, v in PRESETS["real"].items():
        p.add_argument("--" + k.replace("_", "-"), type=type(v), default=None)


def _settings(args: argparse.Namespace) -> dict:
    out = dict(PRESETS[args.preset])
    for k in out:
        v = getattr(args, k)
        if v is not None:
            out[k] = v
    return out


def _sha(path: str) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()[:16]


def init_weights(model: Llama, seed: int) -> None:
    """GPT-2 style: N(0, 0.02), residual outputs scaled by 1/sqrt(2 n_layer), norms 1."""
    gen = torch.Generator().manual_seed(seed)
    std = 0.02
    with torch.no_grad():
        for name, p in model.gguf_names().items():
            if p.ndim == 1:
                p.fill_(1.0)
                continue
            s = std / math.sqrt(2 * model.cfg.n_layer) if name.endswith(("attn_output.weight", "ffn_down.weight")) else std
            p.copy_(torch.randn(p.shape, generator=gen) * s)


def stage_tokenizer(st: dict, files: list[str], args, log) -> tokenizer.Tokenizer:
    path = os.path.join(args.work, "tokenizer.json")
    if os.path.exists(path):
        return tokenizer.Tokenizer.load(path)
    per_file = max(1, st["tokenizer_bytes"] // len(files))
    t0 = time.time()
    texts = []
    for f in files:
        # The sample comes from the training part of each shard only.
        text = data.read_text(f, min(per_file, args.max_bytes) if args.max_bytes else per_file)
        texts.append(text)
    words = tokenizer.count_words(texts)
    log(f"tokenizer: {sum(len(t) for t in texts)} chars sampled, {len(words)} distinct words")
    tok = tokenizer.train(words, st["vocab"], log=log)
    tok.save(path)
    log(f"tokenizer: {tok.vocab_size} tokens ({len(tok.merges)} merges) in {time.time() - t0:.0f} s -> {path}")
    return tok


def _split_val(text: str, fraction: float) -> tuple[str, str]:
    cut = int(len(text) * (1 - fraction))
    nl = text.rfind("\n", 0, cut)
    cut = nl + 1 if nl > 0 else cut
    return text[:cut], text[cut:]


def stage_tokens(st: dict, tok: tokenizer.Tokenizer, files: list[str], args, log) -> tuple[np.ndarray, np.ndarray]:
    meta_path = os.path.join(args.work, "tokens.json")
    dtype = np.uint16 if tok.vocab_size <= 65535 else np.uint32
    paths = {k: os.path.join(args.work, f"{k}.bin") for k in ("train", "val")}
    want = {"tokenizer": _sha(os.path.join(args.work, "tokenizer.json")), "files": [os.path.basename(f) for f in files],
            "max_bytes": args.max_bytes, "val_fraction": st["val_fraction"]}
    if os.path.exists(meta_path) and json.load(open(meta_path)).get("key") == want:
        return tuple(np.memmap(paths[k], dtype=dtype, mode="r") for k in ("train", "val"))  # type: ignore[return-value]
    t0 = time.time()
    counts = {"train": 0, "val": 0, "train_bytes": 0, "val_bytes": 0}
    outs = {k: open(paths[k] + ".tmp", "wb") for k in paths}
    for f in files:
        text = data.read_text(f, args.max_bytes)
        parts = dict(zip(("train", "val"), _split_val(text, st["val_fraction"])))
        for k, part in parts.items():
            ids = np.asarray(tok.encode(part), dtype=dtype)
            ids.tofile(outs[k])
            counts[k] += len(ids)
            counts[k + "_bytes"] += len(part.encode("utf-8"))
        log(f"tokens: {os.path.basename(f)} done ({counts['train']} train, {counts['val']} val so far, {time.time() - t0:.0f} s)")
    for k, fh in outs.items():
        fh.close()
        os.replace(paths[k] + ".tmp", paths[k])
    json.dump({"key": want, **counts}, open(meta_path, "w"), indent=2)
    return tuple(np.memmap(paths[k], dtype=dtype, mode="r") for k in ("train", "val"))  # type: ignore[return-value]


def windows(tokens: np.ndarray, starts: np.ndarray, ctx: int, bos: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Training windows coded the way llmzip codes a chunk: BOS first, then ctx tokens predicted."""
    idx = starts[:, None] + np.arange(ctx)[None, :]
    tgt = torch.from_numpy(tokens[idx].astype(np.int64))
    inp = torch.cat((torch.full((len(starts), 1), bos, dtype=torch.long), tgt[:, :-1]), dim=1)
    return inp, tgt


def run(args: argparse.Namespace) -> dict:
    st = _settings(args)
    os.makedirs(args.work, exist_ok=True)
    threads = args.threads or int(os.environ.get("LLMZIP_TRAIN_THREADS", "0")) or (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    precision = resolve_precision(args.precision, device)
    logf = open(os.path.join(args.work, "train.log"), "a")

    def log(msg: str) -> None:
        print(msg, flush=True)
        logf.write(msg + "\n")
        logf.flush()

    files = data.expand(args.data)
    log(f"== base model: preset {args.preset}, {len(files)} files, device {device}, precision {precision}, "
        f"{threads} threads, torch {torch.__version__}, settings {json.dumps(st)}")
    tok = stage_tokenizer(st, files, args, log)
    train_tok, val_tok = stage_tokens(st, tok, files, args, log)
    ctx = st["ctx"]
    if len(train_tok) <= ctx or len(val_tok) <= ctx:
        raise SystemExit(f"too little text for a context of {ctx} tokens")

    cfg = LlamaConfig(vocab=tok.vocab_size, n_embd=st["n_embd"], n_layer=st["n_layer"], n_head=st["n_head"],
                      n_head_kv=st["n_head_kv"], n_ff=st["n_ff"], n_ctx=ctx, tied_output=True)
    model = Llama(cfg)
    init_weights(model, args.seed)
    model.to(device)
    params = [p for p in model.parameters()]
    log(f"model: {sum(p.numel() for p in params)} parameters, {json.dumps(cfg.to_dict())}")
    # Weight decay on matrices only.
    decay = [p for p in params if p.ndim >= 2]
    rest = [p for p in params if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": st["weight_decay"]}, {"params": rest, "weight_decay": 0.0}],
                            lr=st["lr"], betas=(0.9, 0.95))
    ckpt_path = os.path.join(args.work, "ckpt.pt")
    start_step = 0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path, map_location=device)
        if ck["cfg"] != cfg.to_dict():
            raise SystemExit(f"{ckpt_path} holds another model shape; use a new --work folder")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        start_step = ck["step"]
        log(f"resumed from step {start_step}")

    bos = tok.bos
    # Batches are a function of (seed, step): a resumed run draws exactly what an uninterrupted one would.
    def next_batch(step: int):
        rng = np.random.default_rng([args.seed, 0, step])
        starts = rng.integers(0, len(train_tok) - ctx, size=st["batch"])
        inp, tgt = windows(train_tok, starts, ctx, bos)
        return inp.to(device), tgt.to(device)

    vrng = np.random.default_rng([args.seed, 1, 0])
    n_val = max(1, min(st["eval_batches"], (len(val_tok) - ctx) // ctx))
    val_batches = []
    for i in range(n_val):
        starts = vrng.integers(0, len(val_tok) - ctx, size=st["batch"])
        inp, tgt = windows(val_tok, starts, ctx, bos)
        val_batches.append((inp.to(device), tgt.to(device)))
    val_tokens = n_val * st["batch"] * ctx
    meta = json.load(open(os.path.join(args.work, "tokens.json")))
    bytes_per_token = meta["val_bytes"] / max(1, meta["val"])

    def on_eval(_s: int) -> float:
        # In fp32: under bf16 the held-out sum of thousands of token losses rounds to nonsense.
        bits = evaluate(model, val_batches)
        return bits / val_tokens / bytes_per_token  # ~bits per byte of held-out text

    deadline = time.time() + args.time_limit * 60 if args.time_limit else None

    def on_checkpoint(step: int, o) -> None:
        torch.save({"model": model.state_dict(), "opt": o.state_dict(), "step": step, "cfg": cfg.to_dict(), "settings": st}, ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)
        if (deadline and time.time() > deadline or args.stop_after and step >= args.stop_after) and step < st["steps"]:
            raise _TimeUp(step)

    def autocast():
        if precision == "bf16":
            return torch.autocast("cuda" if device == "cuda" else "cpu", dtype=torch.bfloat16)
        return _Null()

    sched = Schedule(steps=st["steps"], lr=st["lr"], warmup=st["warmup"], weight_decay=st["weight_decay"])
    try:
        result = fit(model, params, next_batch, sched, on_eval=on_eval, eval_every=st["eval_every"], log=log,
                     start_step=start_step, optimizer=opt, on_checkpoint=on_checkpoint,
                     checkpoint_every=st["checkpoint_every"], keep_best=False, autocast=autocast)
    except _TimeUp as t:
        # The held-out loss where the piece stopped: what equal-time pilot runs are compared on.
        val = on_eval(t.step)
        log(f"time limit reached at step {t.step} ({t.step * st['batch'] * ctx} tokens trained), val {val:.4f} bits/byte; "
            "run the same command again to resume")
        return {"finished": False, "step": t.step, "val_bits_per_byte": val}
    model.to("cpu").float()
    types = export.model_gguf(model, tok, args.out, args.qtype, args.name)
    log(f"wrote {args.out} ({os.path.getsize(args.out)} bytes, {sorted(set(types.values()))}); final val {result['best_val']:.4f} bits/byte (approx.)")
    return {"finished": True, "out": args.out, "val_bits_per_byte": result["best_val"]}


def cpu_has_bf16() -> bool:
    """AVX512-BF16 or AMX: where torch's bf16 CPU kernels run natively (about 3x fp32 measured here)."""
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def resolve_precision(choice: str, device: str) -> str:
    if choice != "auto":
        return choice
    return "bf16" if device == "cuda" or cpu_has_bf16() else "fp32"


class _TimeUp(Exception):
    def __init__(self, step: int):
        super().__init__(f"time limit at step {step}")
        self.step = step


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
