"""LoRA adapters: attach to a torch Llama, train, and export as a llama.cpp GGUF LoRA.

llama.cpp's LoRA GGUF (general.type = "adapter", adapter.type = "lora",
adapter.lora.alpha): for a base matrix `NAME` of ggml dims (n_in, n_out) it
holds `NAME.lora_a` with dims (n_in, rank) and `NAME.lora_b` with dims
(rank, n_out), and computes W x + s * alpha / rank * B (A x), s being the
scale the user gives. token_embd is the exception: its pair is stored
"flipped" (lora_a dims (rank, n_vocab), lora_b dims (rank, n_embd)) because
llama.cpp gathers rows of A by token id.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import gguf
from .llama import Llama

# Which matrices a target name selects.
TARGETS = {
    "attn_q": ["attn_q"], "attn_k": ["attn_k"], "attn_v": ["attn_v"], "attn_output": ["attn_output"],
    "ffn_gate": ["ffn_gate"], "ffn_up": ["ffn_up"], "ffn_down": ["ffn_down"],
    "attn": ["attn_q", "attn_k", "attn_v", "attn_output"],
    "ffn": ["ffn_gate", "ffn_up", "ffn_down"],
    "output": [], "token_embd": [],
}


class EmbeddingLoRA(nn.Module):
    """The token_embd pair: delta(token) = scale * B a[token], a: (vocab, rank), B: (n_embd, rank)."""

    def __init__(self, vocab: int, n_embd: int, rank: int, alpha: float, generator: torch.Generator):
        super().__init__()
        self.a = nn.Parameter(torch.zeros(vocab, rank))
        b = torch.empty(n_embd, rank)
        b.normal_(0.0, 1.0 / math.sqrt(rank), generator=generator)
        self.b = nn.Parameter(b)
        self.scale = alpha / rank

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.scale * F.linear(F.embedding(tokens, self.a), self.b)


def attach(model: Llama, targets: list[str], rank: int, alpha: float, seed: int) -> list[nn.Parameter]:
    """Freezes the model, adds LoRA pairs to the chosen matrices, returns the trainable parameters."""
    for p in model.parameters():
        p.requires_grad_(False)
    gen = torch.Generator().manual_seed(seed)
    parts: set[str] = set()
    for t in targets:
        if t not in TARGETS:
            raise SystemExit(f"unknown LoRA target {t!r} (choose from {', '.join(TARGETS)})")
        parts.update(TARGETS[t])
    params: list[nn.Parameter] = []
    for name, proj in model.projections().items():
        part = name.split(".")[2] if name.startswith("blk.") else name.split(".")[0]
        if part in parts or (name == "output.weight" and "output" in targets):
            proj.add_lora(rank, alpha, gen)
            params += [proj.lora_a, proj.lora_b]
    if "output" in targets and model.output is None:
        raise SystemExit("this model ties output to token_embd; use the token_embd target instead of output")
    if "token_embd" in targets:
        model.embd_lora = EmbeddingLoRA(model.cfg.vocab, model.cfg.n_embd, rank, alpha, gen)
        params += [model.embd_lora.a, model.embd_lora.b]
    if not params:
        raise SystemExit("no LoRA targets selected")
    return params


def export(model: Llama, path: str, alpha: float, meta_extra: dict[str, gguf.Value] | None = None) -> int:
    """Writes the model's LoRA pairs as a GGUF adapter llama.cpp loads. Returns the tensor count."""
    tensors: list[tuple[str, np.ndarray, int]] = []
    with torch.no_grad():
        emb = getattr(model, "embd_lora", None)
        if emb is not None:
            tensors.append(("token_embd.weight.lora_a", emb.a.numpy(), gguf.GGML_F32))
            tensors.append(("token_embd.weight.lora_b", emb.b.numpy(), gguf.GGML_F32))
        for name, proj in model.projections().items():
            if proj.lora_a is None:
                continue
            tensors.append((name + ".lora_a", proj.lora_a.numpy(), gguf.GGML_F32))
            tensors.append((name + ".lora_b", proj.lora_b.numpy(), gguf.GGML_F32))
    meta = {
        "general.architecture": gguf.s("llama"),
        "general.type": gguf.s("adapter"),
        "adapter.type": gguf.s("lora"),
        "adapter.lora.alpha": gguf.f32(alpha),
    }
    meta.update(meta_extra or {})
    gguf.write(path, meta, tensors)
    return len(tensors)


def load_into(model: Llama, path: str) -> float:
    """Attaches the LoRA pairs of a GGUF adapter to `model` (for evaluation). Returns alpha."""
    g = gguf.read(path)
    if g.get("general.type") != "adapter" or g.get("adapter.type") != "lora":
        raise SystemExit(f"{path} is not a LoRA adapter GGUF")
    alpha = float(g.get("adapter.lora.alpha", 0.0))
    projs = model.projections()
    for name, t in g.tensors.items():
        if not name.endswith(".lora_a"):
            continue
        base = name[: -len(".lora_a")]
        a = torch.from_numpy(np.ascontiguousarray(t.data))
        b = torch.from_numpy(np.ascontiguousarray(g.tensor(base + ".lora_b")))
        if base == "token_embd.weight":
            rank = b.shape[1]
            emb = EmbeddingLoRA(model.cfg.vocab, model.cfg.n_embd, rank, alpha or rank, torch.Generator())
            emb.a.data.copy_(a)
            emb.b.data.copy_(b)
            model.embd_lora = emb
            continue
        proj = projs[base]
        rank = a.shape[0]
        proj.lora_a = nn.Parameter(a.clone())
        proj.lora_b = nn.Parameter(b.clone())
        proj.lora_scale = (alpha / rank) if alpha else 1.0
    return alpha
