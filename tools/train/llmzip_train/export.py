"""Export of a trained base model to a GGUF that llama.cpp (and so llmzip) loads, tokenizer included."""

from __future__ import annotations

import os

import numpy as np
import torch

from . import gguf
from .llama import Llama
from .tokenizer import Tokenizer

# general.file_type values (llama_ftype).
FILE_TYPES = {"f32": (gguf.GGML_F32, 0), "f16": (gguf.GGML_F16, 1), "q8_0": (gguf.GGML_Q8_0, 7)}


def _matrix_type(name: str, arr: np.ndarray, wanted: int) -> int:
    """Norms stay F32 (llama.cpp keeps 1-D tensors in F32); Q8_0 needs rows that split into blocks of 32."""
    if arr.ndim < 2:
        return gguf.GGML_F32
    if wanted == gguf.GGML_Q8_0 and arr.shape[-1] % gguf.Q8_0_BLOCK:
        return gguf.GGML_F16
    return wanted


def model_gguf(model: Llama, tok: Tokenizer, path: str, qtype: str = "q8_0", name: str = "llmzip-base", extra: dict[str, gguf.Value] | None = None) -> dict:
    """Writes `model` with `tok` embedded, and beside it the tokenizer as a Hugging Face
    tokenizer.json (see `hf_tokenizer_path`) for tools that do not read GGUF.
    Returns {tensor name: ggml type name}."""
    if qtype not in FILE_TYPES:
        raise SystemExit(f"--qtype must be one of {', '.join(FILE_TYPES)}")
    wanted, ftype = FILE_TYPES[qtype]
    cfg = model.cfg
    if cfg.vocab != tok.vocab_size:
        raise SystemExit(f"model vocabulary {cfg.vocab} != tokenizer vocabulary {tok.vocab_size}")
    meta: dict[str, gguf.Value] = {
        "general.architecture": gguf.s("llama"),
        "general.name": gguf.s(name),
        "general.file_type": gguf.u32(ftype),
        "llama.vocab_size": gguf.u32(cfg.vocab),
        "llama.context_length": gguf.u32(cfg.n_ctx),
        "llama.embedding_length": gguf.u32(cfg.n_embd),
        "llama.block_count": gguf.u32(cfg.n_layer),
        "llama.feed_forward_length": gguf.u32(cfg.n_ff),
        "llama.rope.dimension_count": gguf.u32(cfg.head_dim),
        "llama.attention.head_count": gguf.u32(cfg.n_head),
        "llama.attention.head_count_kv": gguf.u32(cfg.n_head_kv),
        "llama.attention.layer_norm_rms_epsilon": gguf.f32(cfg.rms_eps),
        "llama.rope.freq_base": gguf.f32(cfg.rope_base),
        "tokenizer.ggml.model": gguf.s("gpt2"),
        "tokenizer.ggml.pre": gguf.s("trillion"),
        "tokenizer.ggml.tokens": gguf.str_array(tok.spellings()),
        "tokenizer.ggml.token_type": gguf.i32_array(tok.token_types()),
        "tokenizer.ggml.merges": gguf.str_array(tok.merge_strings()),
        "tokenizer.ggml.bos_token_id": gguf.u32(tok.bos),
        "tokenizer.ggml.eos_token_id": gguf.u32(tok.eos),
        "tokenizer.ggml.add_bos_token": gguf.boolean(False),
        "tokenizer.ggml.add_eos_token": gguf.boolean(False),
    }
    if wanted == gguf.GGML_Q8_0:
        meta["general.quantization_version"] = gguf.u32(2)
    meta.update(extra or {})
    tensors = []
    types = {}
    with torch.no_grad():
        for tname, p in model.gguf_names().items():
            arr = p.detach().float().cpu().numpy()
            t = _matrix_type(tname, arr, wanted)
            tensors.append((tname, arr, t))
            types[tname] = gguf.type_name(t)
    gguf.write(path, meta, tensors)
    tok.save_hf(hf_tokenizer_path(path))
    return types


def hf_tokenizer_path(gguf_path: str) -> str:
    """models/llmzip-en.gguf -> models/llmzip-en.tokenizer.json."""
    stem, ext = os.path.splitext(gguf_path)
    return (stem if ext.lower() == ".gguf" else gguf_path) + ".tokenizer.json"
