"""Byte-level BPE: training, encoding, and the GGUF vocabulary llama.cpp reads.

Every byte sequence is representable: the first 256 tokens are the single
bytes, so any word the merges do not cover falls back to bytes. Text is
pre-split as llama.cpp's "gpt2" regex does

    's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)

(llama.cpp runs it as a hand-written state machine; `_split_exact` is that
machine), then each piece is merged by rank. In the GGUF the vocabulary is
tokenizer.ggml.model = "gpt2" with tokens spelled in GPT-2's byte-to-unicode
alphabet and tokenizer.ggml.merges. The pre-tokenizer name is "trillion":
llama.cpp maps it to the same gpt2 regex but, unlike "gpt-2", does not
"clean up" spaces before punctuation on detokenization, which would break
llmzip's byte-exact round trip.
"""

from __future__ import annotations

import heapq
import json
import re
import unicodedata
from collections import Counter
from typing import Iterable

# llama.cpp's whitespace set (Unicode White_Space).
_WHITESPACE = frozenset([0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000])

# For text without the characters below, Python's re classes equal llama.cpp's:
# [^\W\d_] = \p{L}, \d = \p{N}, and \s = its whitespace set.
_FAST = re.compile(r"""'(?:[stmd]|re|ve|ll)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")
_ASCII_MISMATCH = re.compile(r"[\x1c-\x1f]")  # \s to Python, punctuation-like to llama.cpp

SPECIALS = ["<s>", "</s>"]
TOKEN_NORMAL, TOKEN_CONTROL = 1, 3


def _flags(ch: str) -> str:
    """'w' whitespace, 'L' letter, 'N' number, 'o' anything else (llama.cpp's classes)."""
    if ord(ch) in _WHITESPACE:
        return "w"
    cat = unicodedata.category(ch)
    if cat[0] == "L":
        return "L"
    if cat[0] == "N":
        return "N"
    return "o"


def _needs_exact(text: str) -> bool:
    if text.isascii():
        return _ASCII_MISMATCH.search(text) is not None
    for ch in set(text):
        o = ord(ch)
        if o < 128:
            if 0x1C <= o <= 0x1F:
                return True
            continue
        cat = unicodedata.category(ch)
        # Numbers that are not decimal digits are \p{N} but \w-non-\d to Python; the
        # other classes agree except where the Unicode versions differ (unassigned).
        if cat in ("No", "Nl", "Cn") or ch.isspace() != (o in _WHITESPACE):
            return True
    return False


def _split_exact(text: str) -> list[str]:
    """llama.cpp's unicode_regex_split_custom_gpt2, character for character."""
    n = len(text)
    fl = [_flags(c) for c in text]
    out = []
    prev = 0
    pos = 0

    def flag(i: int) -> str:
        return fl[i] if i < n else ""

    while pos < n:
        c = text[pos]
        if c == "'" and pos + 1 < n:
            nx = text[pos + 1]
            if nx in "stmd":
                pos += 2
                out.append(text[prev:pos]); prev = pos
                continue
            if pos + 2 < n and text[pos + 1:pos + 3] in ("re", "ve", "ll"):
                pos += 3
                out.append(text[prev:pos]); prev = pos
                continue
        f2 = flag(pos + 1) if c == " " else fl[pos]
        if f2 in ("L", "N"):
            kind = f2
            pos += c == " "
            while flag(pos) == kind:
                pos += 1
            out.append(text[prev:pos]); prev = pos
            continue
        if f2 == "o":
            pos += c == " "
            while flag(pos) == "o":
                pos += 1
            out.append(text[prev:pos]); prev = pos
            continue
        ws = 0
        while flag(pos + ws) == "w":
            ws += 1
        if ws > 1 and pos + ws < n:
            pos += ws - 1
        elif ws > 0:
            pos += ws
        else:
            pos += 1
        out.append(text[prev:pos]); prev = pos
    return out


def pretokenize(text: str) -> list[str]:
    """The pieces llama.cpp's gpt2 pre-tokenizer cuts `text` into."""
    if _needs_exact(text):
        return _split_exact(text)
    return _FAST.findall(text)


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map (the alphabet of the vocabulary's spellings)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


BYTE_CHARS = bytes_to_unicode()
CHAR_BYTES = {c: b for b, c in BYTE_CHARS.items()}


class Tokenizer:
    """Ids 0..255 are the bytes, then the merged pieces in order of first appearance, then the
    special tokens. Two merges may spell the same piece (ab+c, a+bc): they share one id, as in
    llama.cpp, which looks the merged text up in the vocabulary."""

    def __init__(self, merges: list[tuple[int, int]]):
        self.merges = merges
        self.pieces: list[bytes] = [bytes([b]) for b in range(256)]
        index = {p: i for i, p in enumerate(self.pieces)}
        self.merge_to: list[int] = []
        for a, b in merges:
            piece = self.pieces[a] + self.pieces[b]
            if piece not in index:
                index[piece] = len(self.pieces)
                self.pieces.append(piece)
            self.merge_to.append(index[piece])
        self.ranks = {pair: r for r, pair in reversed(list(enumerate(merges)))}
        self.bos = len(self.pieces)
        self.eos = self.bos + 1
        self._cache: dict[str, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        return len(self.pieces) + len(SPECIALS)

    def _bpe(self, word: bytes) -> list[int]:
        ids = list(word)
        ranks = self.ranks
        while len(ids) > 1:
            best = None
            best_i = -1
            for i in range(len(ids) - 1):
                r = ranks.get((ids[i], ids[i + 1]))
                if r is not None and (best is None or r < best):
                    best, best_i = r, i
            if best is None:
                break
            # Merge the leftmost occurrence of the best pair, then the others left to right,
            # as llama.cpp's rank queue (ties by position) does.
            a, b = self.merges[best]
            new = self.merge_to[best]
            ids[best_i:best_i + 2] = [new]
            i = best_i + 1
            while i < len(ids) - 1:
                if ids[i] == a and ids[i + 1] == b:
                    ids[i:i + 2] = [new]
                i += 1
        return ids

    def encode(self, text: str) -> list[int]:
        out: list[int] = []
        cache = self._cache
        for piece in pretokenize(text):
            ids = cache.get(piece)
            if ids is None:
                ids = self._bpe(piece.encode("utf-8"))
                if len(cache) < 2_000_000:
                    cache[piece] = ids
            out.extend(ids)
        return out

    def decode(self, ids: Iterable[int]) -> bytes:
        return b"".join(self.pieces[i] for i in ids if i < len(self.pieces))

    def spellings(self) -> list[str]:
        """Token texts as llama.cpp's gpt2 vocabulary spells them."""
        return ["".join(BYTE_CHARS[b] for b in p) for p in self.pieces] + SPECIALS

    def token_types(self) -> list[int]:
        return [TOKEN_NORMAL] * len(self.pieces) + [TOKEN_CONTROL] * len(SPECIALS)

    def merge_strings(self) -> list[str]:
        sp = self.spellings()
        return [f"{sp[a]} {sp[b]}" for a, b in self.merges]

    def hf_json(self) -> dict:
        """This tokenizer as a Hugging Face `tokenizers` file (tokenizer.json), ids equal to llama.cpp's.

        The split regex spells llama.cpp's whitespace set out instead of writing
        \\s, whose meaning differs between regex engines (JavaScript's \\s has
        U+FEFF and lacks U+0085; llama.cpp has the opposite). The ByteLevel
        decoder joins bytes back as they were: no space clean-up, which would
        break the byte-exact round trip (the reason the GGUF says "trillion")."""
        ws = "".join(chr(c) for c in sorted(_WHITESPACE))
        regex = rf"'s|'t|'re|'ve|'m|'ll|'d| ?\p{{L}}+| ?\p{{N}}+| ?[^{ws}\p{{L}}\p{{N}}]+|[{ws}]+(?![^{ws}])|[{ws}]+"
        sp = self.spellings()
        byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {"id": self.bos + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
                for i, s in enumerate(SPECIALS)
            ],
            "normalizer": None,
            "pre_tokenizer": {
                "type": "Sequence",
                "pretokenizers": [{"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False}, byte_level],
            },
            "post_processor": None,
            "decoder": byte_level,
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": None,
                "end_of_word_suffix": None,
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": False,
                "vocab": {s: i for i, s in enumerate(sp)},
                # "a b" strings, the form every tokenizers version reads (spellings never contain a space).
                "merges": self.merge_strings(),
            },
        }

    def save_hf(self, path: str) -> None:
        with open(path, "w") as f:
            json.dump(self.hf_json(), f, ensure_ascii=True, indent=1)
            f.write("\n")

    def save(self, path: str) -> None:
        with open(path, "w") as f:
            json.dump({"kind": "llmzip-bpe", "pretokenizer": "gpt2", "merges": self.merges}, f)

    @staticmethod
    def load(path: str) -> "Tokenizer":
        with open(path) as f:
            d = json.load(f)
        if d.get("kind") != "llmzip-bpe":
            raise SystemExit(f"{path} is not an llmzip tokenizer")
        return Tokenizer([tuple(m) for m in d["merges"]])


def count_words(texts: Iterable[str]) -> Counter:
    c: Counter = Counter()
    for t in texts:
        c.update(pretokenize(t))
    return c


def train(words: Counter, vocab_size: int, min_count: int = 2, log=None) -> Tokenizer:
    """Learns merges until the vocabulary (bytes + merged pieces + specials) reaches `vocab_size`.

    Classic BPE over the distinct pre-tokenized words, weighted by count. Ties go
    to the smallest (left id, right id) pair, so the result is deterministic."""
    n_merges = vocab_size - 256 - len(SPECIALS)
    if n_merges < 0:
        raise SystemExit(f"vocabulary size must be at least {256 + len(SPECIALS)}")
    seqs = [list(w.encode("utf-8")) for w in words]
    counts = list(words.values())
    pairs: dict[tuple[int, int], int] = Counter()
    where: dict[tuple[int, int], set[int]] = {}
    for wi, s in enumerate(seqs):
        c = counts[wi]
        for p in zip(s, s[1:]):
            pairs[p] += c
            where.setdefault(p, set()).add(wi)
    heap = [(-c, p) for p, c in pairs.items()]
    heapq.heapify(heap)
    merges: list[tuple[int, int]] = []
    pieces: list[bytes] = [bytes([i]) for i in range(256)]
    index = {p: i for i, p in enumerate(pieces)}
    while len(pieces) - 256 < n_merges and heap:
        negc, pair = heapq.heappop(heap)
        if pairs.get(pair, 0) != -negc:
            continue  # stale entry
        if -negc < min_count:
            break
        a, b = pair
        merges.append(pair)
        piece = pieces[a] + pieces[b]
        if piece not in index:
            index[piece] = len(pieces)
            pieces.append(piece)
        new = index[piece]
        touched: set[tuple[int, int]] = set()
        for wi in where.pop(pair, ()):
            s = seqs[wi]
            c = counts[wi]
            for p in zip(s, s[1:]):
                pairs[p] -= c
                touched.add(p)
            out = []
            i = 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == a and s[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[wi] = out
            for p in zip(out, out[1:]):
                pairs[p] += c
                touched.add(p)
                where.setdefault(p, set()).add(wi)
        pairs.pop(pair, None)
        for p in touched:
            c = pairs.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
            elif p in pairs:
                del pairs[p]
        if log and len(merges) % 1000 == 0:
            log(f"  {len(merges)} merges")
    return Tokenizer(merges)
