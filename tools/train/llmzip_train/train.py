"""The training loop shared by LoRA fine-tuning and base-model training."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .llama import Llama

IGNORE = -100


@dataclass
class Schedule:
    steps: int
    lr: float
    warmup: int = 0
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.0
    clip: float = 1.0

    def lr_at(self, step: int) -> float:
        if self.warmup and step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        span = max(1, self.steps - self.warmup)
        t = min(1.0, (step - self.warmup) / span)
        return self.lr * (self.min_lr_ratio + (1 - self.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


def batch_from_chunks(chunks: list[np.ndarray], start: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and targets for chunks coded after `start`: input = start + tokens[:-1], padded at the end."""
    n = max(len(c) for c in chunks)
    inp = torch.full((len(chunks), n), start, dtype=torch.long)
    tgt = torch.full((len(chunks), n), IGNORE, dtype=torch.long)
    for i, c in enumerate(chunks):
        t = torch.from_numpy(np.asarray(c, dtype=np.int64))
        inp[i, 1:len(c)] = t[:-1]
        tgt[i, :len(c)] = t
    return inp, tgt


def loss_bits(model: Llama, inp: torch.Tensor, tgt: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Mean cross-entropy in nats over the non-padding targets, and their count."""
    logits = model(inp)
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=IGNORE)
    return loss, int((tgt != IGNORE).sum())


def evaluate(model: Llama, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """Total bits of all targets in the batches."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        for inp, tgt in batches:
            logits = model(inp)
            nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=IGNORE, reduction="sum")
            total += float(nll) / math.log(2)
    model.train()
    return total


def fit(
    model: Llama,
    params: list[torch.nn.Parameter],
    next_batch: Callable[[int], tuple[torch.Tensor, torch.Tensor]],
    sched: Schedule,
    *,
    on_eval: Callable[[int], float] | None = None,
    eval_every: int = 0,
    log: Callable[[str], None] = print,
    start_step: int = 0,
    optimizer: torch.optim.Optimizer | None = None,
    on_checkpoint: Callable[[int, torch.optim.Optimizer], None] | None = None,
    checkpoint_every: int = 0,
    keep_best: bool = True,
    autocast: Callable[[], object] | None = None,
) -> dict:
    """AdamW with warmup and cosine decay. With `on_eval` (returns a validation loss, lower is better)
    and keep_best, the parameters end at the best evaluated point. `autocast` (a context factory, e.g.
    bf16) covers the forward pass only: under it the optimizer's update runs in bf16 too, where small
    steps round away and training stalls (measured: a 5.8M model stuck at 11.7 bits/token)."""
    opt = optimizer or torch.optim.AdamW(params, lr=sched.lr, weight_decay=sched.weight_decay, betas=(0.9, 0.95))
    best = (math.inf, -1, None)
    t0 = time.time()
    seen = 0
    model.train()
    for step in range(start_step, sched.steps):
        for g in opt.param_groups:
            g["lr"] = sched.lr_at(step)
        inp, tgt = next_batch(step)
        if autocast:
            with autocast():  # type: ignore[attr-defined]
                loss, n = loss_bits(model, inp, tgt)
        else:
            loss, n = loss_bits(model, inp, tgt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if sched.clip:
            torch.nn.utils.clip_grad_norm_(params, sched.clip)
        opt.step()
        seen += n
        last = step + 1 == sched.steps
        if on_eval and eval_every and ((step + 1) % eval_every == 0 or last):
            val = on_eval(step + 1)
            rate = seen / max(1e-9, time.time() - t0)
            log(f"step {step + 1}/{sched.steps} loss {loss.item() / math.log(2):.4f} bits/token  val {val:.4f}  lr {sched.lr_at(step):.2e}  {rate:.0f} tok/s")
            if val < best[0]:
                best = (val, step + 1, [p.detach().clone() for p in params])
        if on_checkpoint and checkpoint_every and ((step + 1) % checkpoint_every == 0 or last):
            on_checkpoint(step + 1, opt)
    if keep_best and best[2] is not None:
        with torch.no_grad():
            for p, b in zip(params, best[2]):
                p.copy_(b)
    return {"best_val": best[0], "best_step": best[1], "seconds": time.time() - t0}
