"""A llama-architecture transformer in PyTorch that computes what llama.cpp computes.

The forward pass follows llama.cpp's LLM_ARCH_LLAMA graph: token embedding,
per block RMSNorm -> attention (RoPE in llama.cpp's "normal" mode, which
rotates adjacent pairs (x0, x1), (x2, x3), ...; grouped-query attention where
query head h reads key/value head h // (n_head / n_head_kv); scale
1/sqrt(head_dim)) -> residual, RMSNorm -> SwiGLU FFN down(silu(gate(x)) * up(x))
-> residual, final RMSNorm, output projection (token_embd when the file has
no output.weight).

Every matrix multiply goes through `Proj`, which can carry a LoRA pair with
llama.cpp's semantics: y = W x + scale * B (A x), scale = alpha / rank.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import gguf


@dataclass
class LlamaConfig:
    vocab: int
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_ctx: int
    rms_eps: float = 1e-5
    rope_base: float = 10000.0
    tied_output: bool = False

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def to_dict(self) -> dict:
        return asdict(self)


class Proj(nn.Module):
    """A bias-free linear map (weight: out x in) with an optional LoRA pair."""

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_out, n_in))
        self.lora_a: nn.Parameter | None = None
        self.lora_b: nn.Parameter | None = None
        self.lora_scale = 0.0

    def add_lora(self, rank: int, alpha: float, generator: torch.Generator) -> None:
        n_out, n_in = self.weight.shape
        # As in the LoRA paper: A random, B zero, so training starts at the base model.
        a = torch.empty(rank, n_in)
        bound = 1.0 / math.sqrt(n_in)
        a.uniform_(-bound, bound, generator=generator)
        self.lora_a = nn.Parameter(a)
        self.lora_b = nn.Parameter(torch.zeros(n_out, rank))
        self.lora_scale = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self.weight)
        if self.lora_a is not None:
            y = y + self.lora_scale * F.linear(F.linear(x, self.lora_a), self.lora_b)
        return y


class RMSNorm(nn.Module):
    def __init__(self, n: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg: LlamaConfig, n: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    half = cfg.head_dim // 2
    inv = cfg.rope_base ** (-torch.arange(half, dtype=torch.float64) * 2.0 / cfg.head_dim)
    ang = torch.arange(n, dtype=torch.float64)[:, None] * inv[None, :]
    return torch.cos(ang).float().to(device), torch.sin(ang).float().to(device)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: (batch, heads, time, head_dim); rotates adjacent pairs (llama.cpp's normal mode)."""
    x0 = x[..., 0::2]
    x1 = x[..., 1::2]
    c = cos[: x.shape[-2]]
    s = sin[: x.shape[-2]]
    out = torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1)
    return out.flatten(-2)


# Fused attention where torch has it (2.0+; same math, less memory on GPUs).
_SDPA = getattr(F, "scaled_dot_product_attention", None)


class Block(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.cfg = cfg
        kv = cfg.n_head_kv * cfg.head_dim
        self.attn_norm = RMSNorm(cfg.n_embd, cfg.rms_eps)
        self.attn_q = Proj(cfg.n_embd, cfg.n_embd)
        self.attn_k = Proj(cfg.n_embd, kv)
        self.attn_v = Proj(cfg.n_embd, kv)
        self.attn_output = Proj(cfg.n_embd, cfg.n_embd)
        self.ffn_norm = RMSNorm(cfg.n_embd, cfg.rms_eps)
        self.ffn_gate = Proj(cfg.n_embd, cfg.n_ff)
        self.ffn_up = Proj(cfg.n_embd, cfg.n_ff)
        self.ffn_down = Proj(cfg.n_ff, cfg.n_embd)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        b, t, _ = x.shape
        h = self.attn_norm(x)
        q = self.attn_q(h).view(b, t, cfg.n_head, cfg.head_dim).transpose(1, 2)
        k = self.attn_k(h).view(b, t, cfg.n_head_kv, cfg.head_dim).transpose(1, 2)
        v = self.attn_v(h).view(b, t, cfg.n_head_kv, cfg.head_dim).transpose(1, 2)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        group = cfg.n_head // cfg.n_head_kv
        if group > 1:
            k = k.repeat_interleave(group, dim=1)
            v = v.repeat_interleave(group, dim=1)
        if _SDPA is not None:
            y = _SDPA(q, k, v, is_causal=True)
        else:
            att = (q @ k.transpose(-1, -2)) / math.sqrt(cfg.head_dim)
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).triu(1)
            att = att.masked_fill(mask, float("-inf")).softmax(-1)
            y = att @ v
        y = y.transpose(1, 2).reshape(b, t, cfg.n_embd)
        x = x + self.attn_output(y)
        h = self.ffn_norm(x)
        return x + self.ffn_down(F.silu(self.ffn_gate(h)) * self.ffn_up(h))


class Llama(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.cfg = cfg
        self.token_embd = nn.Embedding(cfg.vocab, cfg.n_embd)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.output_norm = RMSNorm(cfg.n_embd, cfg.rms_eps)
        self.output = None if cfg.tied_output else Proj(cfg.n_embd, cfg.vocab)
        # A LoRA pair on token_embd (see lora.EmbeddingLoRA), when one is attached.
        self.embd_lora: nn.Module | None = None
        self._rope: tuple[torch.Tensor, torch.Tensor] | None = None

    def rope(self, n: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        if self._rope is None or self._rope[0].shape[0] < n or self._rope[0].device != device:
            self._rope = rope_tables(self.cfg, max(n, self.cfg.n_ctx), device)
        return self._rope

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens: (batch, time) -> logits (batch, time, vocab)."""
        x = self.token_embd(tokens)
        if self.embd_lora is not None:
            x = x + self.embd_lora(tokens)
        cos, sin = self.rope(tokens.shape[1], tokens.device)
        for blk in self.blocks:
            x = blk(x, cos, sin)
        x = self.output_norm(x)
        if self.output is None:
            return F.linear(x, self.token_embd.weight)
        return self.output(x)

    # Mapping between this module's parameters and GGUF tensor names.
    def gguf_names(self) -> dict[str, nn.Parameter]:
        names: dict[str, nn.Parameter] = {"token_embd.weight": self.token_embd.weight, "output_norm.weight": self.output_norm.weight}
        if self.output is not None:
            names["output.weight"] = self.output.weight
        for i, blk in enumerate(self.blocks):
            for part in ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"):
                names[f"blk.{i}.{part}.weight"] = getattr(blk, part).weight
        return names

    def projections(self) -> dict[str, Proj]:
        """Every LoRA-capable matrix, by its GGUF tensor name."""
        out: dict[str, Proj] = {}
        for i, blk in enumerate(self.blocks):
            for part in ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"):
                out[f"blk.{i}.{part}.weight"] = getattr(blk, part)
        if self.output is not None:
            out["output.weight"] = self.output
        return out


def config_from_gguf(g: gguf.GGUFFile) -> LlamaConfig:
    arch = g.get("general.architecture")
    if arch != "llama":
        raise ValueError(f"only llama-architecture models are supported (got {arch})")
    n_embd = g.get("llama.embedding_length")
    n_head = g.get("llama.attention.head_count")
    rot = g.get("llama.rope.dimension_count", n_embd // n_head)
    if rot != n_embd // n_head:
        raise ValueError("partial RoPE (rope.dimension_count != head size) is not supported")
    vocab = g.get("llama.vocab_size") or len(g.get("tokenizer.ggml.tokens"))
    return LlamaConfig(
        vocab=vocab,
        n_embd=n_embd,
        n_layer=g.get("llama.block_count"),
        n_head=n_head,
        n_head_kv=g.get("llama.attention.head_count_kv", n_head),
        n_ff=g.get("llama.feed_forward_length"),
        n_ctx=g.get("llama.context_length"),
        rms_eps=g.get("llama.attention.layer_norm_rms_epsilon", 1e-5),
        rope_base=g.get("llama.rope.freq_base", 10000.0),
        tied_output="output.weight" not in g.tensors,
    )


def load_gguf(path: str) -> tuple[Llama, gguf.GGUFFile]:
    """Builds the torch model from a GGUF file (weights dequantized to float32)."""
    g = gguf.read(path)
    cfg = config_from_gguf(g)
    model = Llama(cfg)
    with torch.no_grad():
        for name, p in model.gguf_names().items():
            arr = g.tensor(name)
            if tuple(arr.shape) != tuple(p.shape):
                raise ValueError(f"{path}: {name} has shape {arr.shape}, expected {tuple(p.shape)}")
            p.copy_(torch.from_numpy(np.ascontiguousarray(arr)))
    return model, g


def token_bits(model: Llama, start: int, seqs: list[np.ndarray]) -> tuple[float, list[float]]:
    """-log2 p of every token of every sequence, each coded after `start` (as llmzip does)."""
    model.eval()
    per = []
    with torch.no_grad():
        for s in seqs:
            toks = torch.from_numpy(np.asarray(s, dtype=np.int64))
            inp = torch.cat((torch.tensor([start]), toks[:-1]))[None]
            logp = model(inp).float().log_softmax(-1)[0]
            nll = -logp.gather(1, toks[:, None])[:, 0]
            per.append(float(nll.sum()) / math.log(2))
    return sum(per), per
