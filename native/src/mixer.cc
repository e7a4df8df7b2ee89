#include "mixer.h"

#include <cstring>
#include <stdexcept>

#include "logistic.h"
#include "range_coder.h"

namespace llmzip {

namespace {

// ---------------------------------------------------------------- configurations

// Configurations 2 and up: orders to 16, the structure contexts, the field
// weight set and a second layer; `extra` adds structure contexts.
MixerConfig structured(int32_t id, int32_t extra) {
  MixerConfig c;
  c.id = id;
  const int32_t orders[] = {1, 2, 3, 4, 6, 8, 12, 16};
  c.nOrders = 8;
  for (int32_t i = 0; i < c.nOrders; ++i) c.orders[i] = orders[i];
  c.contexts = kContextField | kContextAbove | kContextWord | kContextSparse2 | kContextSparse3 | extra;
  c.mixing = kMixingFieldSet | kMixingLayer2;
  c.maxCandidates = 24;
  c.learningRate = 48;
  return c;
}

const MixerConfig kConfigs[] = {
    // 1: orders 1-4 and 6, match model from 5 tokens, up to 16 candidates.
    [] {
      MixerConfig c;
      c.id = 1;
      const int32_t orders[] = {1, 2, 3, 4, 6};
      c.nOrders = 5;
      for (int32_t i = 0; i < c.nOrders; ++i) c.orders[i] = orders[i];
      return c;
    }(),
    // 2: for structured text. Configuration 1 plus orders 8, 12 and 16, the
    // structure contexts (field, line above, word, two sparse), a weight set
    // chosen by field, a second mixing layer, up to 24 candidates and a
    // faster mixer step. Each piece was kept because it paid on logs and
    // JSON (docs/BENCHMARKS.md).
    structured(2, 0),
    // 3: configuration 2 plus the number context (kContextNumber). Numbers
    // tokenized digit by digit run past the field context's 16 offsets, and
    // where their digits end depends on the offset and the last two digits.
    // Measured (stories260K, --force-model): canada.json's first 256 KiB
    // -5.4%, the first 128 KiB of Thunderbird and HDFS logs -0.2% and -0.4%
    // against configuration 2; the same two tokens hashed into the field
    // context instead cost Thunderbird +4.8%.
    structured(3, kContextNumber),
    // 4: configuration 3 plus the sibling context (kContextSibling). The
    // line-above context finds the same field one line up; a one-line JSON
    // array of [x, y] points has no line above, but each x follows "[" and
    // each y a number and ",", so the latest field of the same kind is the
    // previous point's same coordinate, whose leading digits this one shares.
    // Measured: docs/BENCHMARKS.md.
    structured(4, kContextNumber | kContextSibling),
};

// ---------------------------------------------------------------- small helpers

constexpr int32_t kMaxOrders = 8;
constexpr int32_t kMaxContexts = kMaxOrders + kContextCount;  // orders, then structure contexts
constexpr int32_t kMaxInputs = kMaxContexts + 3;  // LLM, contexts, match, bias
constexpr int32_t kMaxCandidates = 32;
constexpr int32_t kBuckets = 12;
constexpr int32_t kLengthBuckets = 22;
constexpr int32_t kRankBuckets = 4;
constexpr int32_t kMatchStates = 3;  // no match; the candidate is the match's token; it is not
constexpr int32_t kOrderBuckets = 4;
constexpr int32_t kMixers = 3;  // weight sets chosen by three different contexts, outputs averaged
constexpr int32_t kMaxMixers = 4;  // with kMixingFieldSet
constexpr int32_t kFields = 64;  // fields per line the structure contexts tell apart
constexpr int32_t kFieldOffsets = 16;
constexpr int32_t kNumberOffsets = 32;  // the number context's offsets in a field (digit-by-digit floats run to 19 and more)
constexpr int32_t kSiblingKinds = 256;  // field kinds the sibling context tells apart (hashed)
constexpr int32_t kLlmBuckets = 8;
constexpr int32_t kApmBuckets = 33;
constexpr int32_t kApm2Contexts = 2048;
constexpr int32_t kOne = 1 << 16;  // 1.0 in the mixer's weights
constexpr int32_t kWeightClamp = 16 * kOne;

int32_t ceilLog2(int64_t n) {
  int32_t b = 0;
  while ((int64_t{1} << b) < n) ++b;
  return b;
}

int32_t clampInt(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

// Counts in roughly logarithmic buckets: 0..4 exact, then wider.
int32_t countBucket(int32_t n) {
  if (n <= 4) return n;
  if (n <= 6) return 5;
  if (n <= 9) return 6;
  if (n <= 14) return 7;
  if (n <= 22) return 8;
  if (n <= 35) return 9;
  if (n <= 55) return 10;
  return 11;
}

int32_t lengthBucket(int32_t len) {
  if (len < 16) return len;
  if (len < 24) return 16;
  if (len < 32) return 17;
  if (len < 48) return 18;
  if (len < 64) return 19;
  if (len < 128) return 20;
  return 21;
}

uint64_t hashStep(uint64_t h, int32_t token) {
  h = (h + static_cast<uint32_t>(token) + 1) * 0x9E3779B97F4A7C15ULL;
  return h ^ (h >> 29);
}

// ---------------------------------------------------------------- adaptive estimates

// A table of probabilities that follow the outcomes seen in each cell, at a
// rate of 1/(n + 1.5) after n of them, down to a floor (so they keep adapting).
class Estimates {
 public:
  void init(int32_t cells, int32_t limit) {
    p_.assign(cells, 0x80000000u);
    n_.assign(cells, 0);
    limit_ = limit;
    for (int32_t i = 0; i < 1024; ++i) rate_[i] = 131072 / (2 * i + 3);
  }
  void set(int32_t cell, uint32_t p16) { p_[cell] = p16 << 16; }
  int32_t p16(int32_t cell) const { return clampInt(static_cast<int32_t>(p_[cell] >> 16), 1, 65535); }
  void learn(int32_t cell, bool y) {
    const int64_t target = y ? 0xFFFFFFFFll : 0;
    const int64_t p = p_[cell];
    p_[cell] = static_cast<uint32_t>(p + (((target - p) * rate_[n_[cell]]) >> 16));
    if (n_[cell] < limit_) ++n_[cell];
  }

 private:
  std::vector<uint32_t> p_;
  std::vector<uint16_t> n_;
  int32_t limit_ = 255;
  int32_t rate_[1024];
};

// ---------------------------------------------------------------- hashed context slots

constexpr int32_t kEntries = 10;

// One context: the tokens that followed it and how often. 64 bytes, one cache line.
struct alignas(64) Slot {
  uint32_t check;  // 0 = empty
  uint16_t count[kEntries];
  int32_t token[kEntries];
};
static_assert(sizeof(Slot) == 64, "a slot is one cache line");

class ContextTable {
 public:
  void init(int32_t bits) {
    bits_ = bits;
    slots_.assign(size_t{1} << bits, Slot{});
  }

  // The slot of a context, or nullptr when it was never seen (or was evicted).
  Slot* find(uint64_t h) {
    Slot* pair = pairOf(h);
    const uint32_t check = checkOf(h);
    if (pair[0].check == check) return &pair[0];
    if (pair[1].check == check) return &pair[1];
    return nullptr;
  }

  // Counts `token` after the context, claiming a slot for it if needed:
  // of the two candidate slots, the one that holds less evidence.
  void add(uint64_t h, int32_t token, int32_t limit) {
    Slot* s = find(h);
    if (!s) {
      Slot* pair = pairOf(h);
      s = total(pair[0]) <= total(pair[1]) ? &pair[0] : &pair[1];
      std::memset(s, 0, sizeof *s);
      s->check = checkOf(h);
    }
    int32_t slot = -1;
    int32_t weakest = 0;
    for (int32_t i = 0; i < kEntries; ++i) {
      if (s->count[i] > 0 && s->token[i] == token) {
        slot = i;
        break;
      }
      if (s->count[i] < s->count[weakest]) weakest = i;
    }
    if (slot < 0) {
      s->token[weakest] = token;
      s->count[weakest] = 1;
      return;
    }
    if (++s->count[slot] > limit)
      for (int32_t i = 0; i < kEntries; ++i) s->count[i] = static_cast<uint16_t>(s->count[i] >> 1);
  }

  static int32_t total(const Slot& s) {
    int32_t t = 0;
    for (int32_t i = 0; i < kEntries; ++i) t += s.count[i];
    return t;
  }

 private:
  Slot* pairOf(uint64_t h) { return &slots_[(h >> (64 - bits_)) & ~size_t{1}]; }
  static uint32_t checkOf(uint64_t h) { return static_cast<uint32_t>(h) | 1u; }

  int32_t bits_ = 0;
  std::vector<Slot> slots_;
};

int32_t countOf(const Slot* s, int32_t token) {
  for (int32_t i = 0; i < kEntries; ++i)
    if (s->count[i] > 0 && s->token[i] == token) return s->count[i];
  return 0;
}

}  // namespace

uint8_t tokenClass(const char* text, int32_t length) {
  uint8_t c = 0;
  int32_t i = 0;
  for (int32_t k = 0; k < length; ++k)
    if (text[k] == '\n') c |= kClassNewline;
  if (length > 0 && (text[0] == ' ' || text[0] == '\t')) c |= kClassSpace;
  while (i < length && (text[i] == ' ' || text[i] == '\t')) ++i;
  if (i == length) return c;
  bool delimiters = true, digits = true;
  for (int32_t k = i; k < length; ++k) {
    const char ch = text[k];
    if (!std::strchr(",;:|=\"'{}[]()<>/", ch) || ch == 0) delimiters = false;
    if (ch < '0' || ch > '9') digits = false;
  }
  if (delimiters) c |= kClassDelimiter;
  if (digits) c |= kClassDigit;
  return c;
}

const MixerConfig* mixerConfig(int32_t id) {
  for (const MixerConfig& c : kConfigs)
    if (c.id == id) return &c;
  return nullptr;
}

// ---------------------------------------------------------------- the mixer

struct ContextMixer::Impl {
  struct LaneState {
    int32_t chunk = -1;
    int32_t matchLength = 0;  // 0 = no match
    int32_t matchChunk = 0;
    int32_t matchPos = 0;     // the position whose token the match predicts
    int32_t recovering = 0;   // a long match broke: its next token still predicts (once)
    // Where the lane is in the text's lines and fields (structure contexts).
    int32_t field = 0;        // fields begin after delimiters and at spaces
    int32_t fieldStart = 0;   // position of the field's first token
    int32_t starts[kFields] = {};      // this line's field starts
    int32_t prevStarts[kFields] = {};  // the previous line's
    int32_t prevFields = 0;   // fields of the previous line; 0 = none yet
    int32_t prevEnd = 0;      // position of the previous line's line feed
    uint64_t word = 0;        // hash of the word so far (0 = none)
    uint64_t prevWord = 0;
    // The sibling context: per field kind (hashed), the latest earlier field's
    // span in this chunk (end 0 = none); this field's kind and sibling.
    int32_t kind = 0;
    int32_t kindStart[kSiblingKinds] = {};
    int32_t kindEnd[kSiblingKinds] = {};
    int32_t sibling = -1;  // -1 = none
    int32_t siblingEnd = 0;
    bool sameSoFar = false;  // this field's tokens so far equal its sibling's
  };

  // One binary decision of the chain, kept from predict() for update().
  struct Decision {
    int32_t token;
    int32_t set[kMaxMixers];
    int32_t st[kMaxMixers];  // each mixer's output, stretch units
    int32_t st2;             // the second layer's output
    int32_t set2;
    int32_t apmCell;
    int32_t apm2Cell;
    int32_t p16;
    int32_t x[kMaxInputs];
    int32_t cell[kMaxContexts];
    int32_t matchCell;
  };

  const MixerConfig cfg;
  const int32_t nVocab;
  const int32_t nContexts;  // orders, then structure contexts
  const int32_t nInputs;
  const int32_t nMixers;
  const std::vector<std::vector<int32_t>>& chunks;
  std::vector<uint8_t> classes;  // per token id
  std::vector<int32_t> known;  // per chunk: leading positions whose token is known
  std::vector<LaneState> lanes;
  ContextTable orders[kMaxContexts];
  Estimates orderEstimates;  // per context: (count of the candidate, count left) buckets
  Estimates matchEstimates;  // per match-length bucket
  std::vector<int32_t> weights[kMaxMixers];
  int32_t weightSets[kMaxMixers];
  std::vector<int32_t> layer2;  // second-layer weights per (rank, match state)
  Estimates apm;   // refines the mixed probability per (rank, match state, order bucket)
  Estimates apm2;  // and per (previous token, first candidate or not)
  std::vector<uint64_t> matchTable;  // context hash -> (chunk + 1) << 32 | position that followed
  int32_t matchBits;
  std::vector<uint8_t> isCandidate;  // per token, cleared after each prediction
  // The tokens outside the candidates share what the chain leaves as a
  // mixture of the LLM, token frequencies so far, and uniform; the weights
  // follow each part's share of the evidence (Bayes with a fixed share).
  std::vector<uint32_t> order0;
  uint64_t order0Total = 0;
  double restWeight[3] = {0.8, 0.1, 0.1};  // LLM, frequencies, uniform
  FreqTable::RestMix restMix;
  const float* pendingExp = nullptr;
  int32_t pendingRest = 0;

  // The pending prediction.
  int32_t pendingLane = -1, pendingChunk = -1, pendingPos = -1;
  int32_t nDecisions = 0;
  Decision decisions[kMaxCandidates];

  static int32_t popcount(int32_t v) {
    int32_t n = 0;
    for (; v; v &= v - 1) ++n;
    return n;
  }

  Impl(const MixerConfig& c, int32_t vocab, int32_t nLanes, const std::vector<std::vector<int32_t>>& ch, int64_t totalTokens,
       const std::vector<uint8_t>& cls)
      : cfg(c), nVocab(vocab), nContexts(c.nOrders + popcount(c.contexts & ((1 << kContextCount) - 1))), nInputs(nContexts + 3),
        nMixers((c.mixing & kMixingFieldSet) ? 4 : kMixers), chunks(ch), classes(cls), known(ch.size(), 0), lanes(nLanes),
        isCandidate(vocab, 0), order0(vocab, 0) {
    if (cfg.nOrders < 1 || cfg.nOrders > kMaxOrders || cfg.maxCandidates < 1 || cfg.maxCandidates > kMaxCandidates ||
        cfg.maxCandidates > FreqTable::kMaxExcluded || (cfg.contexts >> kContextCount) != 0 || cfg.contexts < 0)
      throw std::runtime_error("invalid mixer configuration");
    for (int32_t k = 0; k < cfg.nOrders; ++k)
      if (cfg.orders[k] < 1 || (k > 0 && cfg.orders[k] <= cfg.orders[k - 1])) throw std::runtime_error("invalid mixer configuration");
    if (cfg.matchMinLength < 1 || cfg.stateLimit < 1 || cfg.stateLimit > 1023 || cfg.countLimit < 1 || cfg.countLimit > 65000)
      throw std::runtime_error("invalid mixer configuration");
    // Without classes (a coder given no vocabulary) every token is class 0: the structure contexts still work, as one long field.
    classes.resize(static_cast<size_t>(vocab), 0);
    const int32_t sizeBits = ceilLog2(totalTokens < 1 ? 1 : totalTokens) + 1;
    const int32_t vocabBits = ceilLog2(vocab);
    for (int32_t k = 0; k < cfg.nOrders; ++k) {
      // A context of k tokens has at most V^k values; no table needs more slots than that.
      const int32_t cap = vocabBits * cfg.orders[k] + 1;
      orders[k].init(clampInt(sizeBits < cap ? sizeBits : cap, 4, cfg.tableBitsMax));
    }
    for (int32_t k = cfg.nOrders; k < nContexts; ++k) orders[k].init(clampInt(sizeBits, 4, cfg.tableBitsMax));
    matchBits = clampInt(sizeBits, 10, cfg.matchBitsMax);
    matchTable.assign(size_t{1} << matchBits, 0);

    const int32_t cellsPerOrder = kBuckets * kBuckets;
    orderEstimates.init(nContexts * cellsPerOrder, cfg.stateLimit);
    // Start each cell at the plain count estimate n / (left + 1): good
    // enough that the first tokens are not coded blind.
    const int32_t mid[kBuckets] = {0, 1, 2, 3, 4, 5, 7, 11, 18, 28, 44, 80};
    for (int32_t k = 0; k < nContexts; ++k)
      for (int32_t a = 0; a < kBuckets; ++a)
        for (int32_t b = 0; b < kBuckets; ++b) {
          const int32_t n = mid[a], left = mid[b] > n ? mid[b] : n;
          const int32_t p = clampInt(static_cast<int32_t>((int64_t{n} * 2 + 1) * 65536 / (int64_t{left} * 2 + 4)), 64, 65472);
          orderEstimates.set(k * cellsPerOrder + a * kBuckets + b, static_cast<uint32_t>(p));
        }
    matchEstimates.init(kLengthBuckets, cfg.stateLimit);
    for (int32_t b = 0; b < kLengthBuckets; ++b) matchEstimates.set(b, static_cast<uint32_t>(65536 - 65536 / (b + 2)));

    weightSets[0] = kRankBuckets * kMatchStates * kOrderBuckets;
    weightSets[1] = (cfg.nOrders + 1) * kBuckets;
    weightSets[2] = kRankBuckets * kLlmBuckets;
    weightSets[3] = kFields / 4 * kRankBuckets * 2;
    for (int32_t m = 0; m < nMixers; ++m) {
      weights[m].assign(static_cast<size_t>(weightSets[m]) * nInputs, 0);
      for (int32_t s = 0; s < weightSets[m]; ++s) {
        int32_t* w = &weights[m][static_cast<size_t>(s) * nInputs];
        w[0] = kOne;  // start as the bare model: trust the LLM
        for (int32_t k = 0; k < nContexts; ++k) w[1 + k] = kOne / 4;
        w[1 + nContexts] = kOne / 4;
      }
    }
    // The second layer starts as the average the first configuration takes.
    layer2.assign(static_cast<size_t>(kRankBuckets * kMatchStates) * nMixers, kOne / nMixers);
    apm.init(weightSets[0] * kApmBuckets, 127);
    for (int32_t c = 0; c < weightSets[0]; ++c)
      for (int32_t b = 0; b < kApmBuckets; ++b) apm.set(c * kApmBuckets + b, static_cast<uint32_t>(squash((b - 16) * 128)));
    apm2.init(kApm2Contexts * kApmBuckets, 127);
    for (int32_t c = 0; c < kApm2Contexts; ++c)
      for (int32_t b = 0; b < kApmBuckets; ++b) apm2.set(c * kApmBuckets + b, static_cast<uint32_t>(squash((b - 16) * 128)));
  }

  int32_t tokenAt(int32_t chunk, int32_t pos) const { return pos < 0 ? -1 : chunks[chunk][pos]; }

  // The token one line up at the lane's place in its field (-2: that field
  // was shorter, -3: the line above had fewer fields, -4: no line above).
  int32_t above(const LaneState& l, int32_t pos, int32_t ahead) const {
    if (l.prevFields == 0) return -4;
    if (l.field >= l.prevFields) return -3;
    const int32_t at = l.prevStarts[l.field] + (pos - l.fieldStart) + ahead;
    const int32_t end = l.field + 1 < l.prevFields ? l.prevStarts[l.field + 1] : l.prevEnd + 1;
    return at < end ? chunks[l.chunk][at] : -2;
  }

  // Hashes of the contexts that precede `pos`: orders ascending, then the
  // structure contexts in bit order. Positions before the chunk read as -1,
  // so chunk starts share their contexts.
  void contextHashes(const LaneState& l, int32_t chunk, int32_t pos, uint64_t* orderHash) const {
    uint64_t h = 0;
    int32_t k = 0;
    for (int32_t i = 1; k < cfg.nOrders; ++i) {
      h = hashStep(h, tokenAt(chunk, pos - i));
      if (cfg.orders[k] == i) orderHash[k++] = h;
    }
    if (cfg.contexts == 0) return;
    const int32_t t1 = tokenAt(chunk, pos - 1), t2 = tokenAt(chunk, pos - 2), t3 = tokenAt(chunk, pos - 3);
    const int32_t field = l.field < kFields - 1 ? l.field : kFields - 1;
    const int32_t offset = pos - l.fieldStart < kFieldOffsets - 1 ? pos - l.fieldStart : kFieldOffsets - 1;
    const int32_t numberOffset = pos - l.fieldStart < kNumberOffsets - 1 ? pos - l.fieldStart : kNumberOffsets - 1;
    for (int32_t b = 0; b < kContextCount; ++b) {
      if (!(cfg.contexts & (1 << b))) continue;
      uint64_t c = hashStep(0x5bd1e995ull * (b + 1), b);
      switch (1 << b) {
        case kContextField:
          c = hashStep(hashStep(hashStep(c, field), offset), t1);
          break;
        case kContextAbove:
          c = hashStep(hashStep(hashStep(c, above(l, pos, 0)), above(l, pos, 1)), t1);
          break;
        case kContextWord:
          c = hashStep(c ^ l.word, static_cast<int32_t>(l.prevWord >> 33));
          break;
        case kContextSparse2:
          c = hashStep(hashStep(c, t2), t3);
          break;
        case kContextSparse3:
          c = hashStep(hashStep(c, t1), t3);
          break;
        case kContextSibling:
          c = hashStep(hashStep(hashStep(hashStep(hashStep(c, numberOffset), siblingToken(l, pos)), l.sameSoFar ? 1 : 0), t1), l.kind);
          break;
        case kContextNumber:
          c = hashStep(hashStep(hashStep(c, numberOffset), t1), t2);
          break;
      }
      orderHash[k++] = c;
    }
  }

  // The sibling's token at the lane's offset in its field (-2: the sibling
  // was shorter, -4: no sibling).
  int32_t siblingToken(const LaneState& l, int32_t pos) const {
    if (l.sibling < 0) return -4;
    const int32_t at = l.sibling + (pos - l.fieldStart);
    return at < l.siblingEnd ? chunks[l.chunk][at] : -2;
  }

  // A field's kind reads digits as one token: in "3],[" and "7],[" the x that follows is the same kind.
  int32_t kindToken(int32_t token) const { return token >= 0 && (classes[static_cast<size_t>(token)] & kClassDigit) ? -10 : token; }

  // Before advanceStructure() moves on: a token inside the field is checked
  // against the sibling; one that starts a field files the ended field under
  // its kind and looks up the new field's sibling. The new kind is the
  // delimiter and the token before it, or for a word the token before and
  // the word's first token.
  void followSibling(LaneState& l, int32_t pos, int32_t token, uint8_t cls) {
    if (!(cls & (kClassNewline | kClassSpace | kClassDelimiter))) {
      if (l.sameSoFar && siblingToken(l, pos) != token) l.sameSoFar = false;
      return;
    }
    if (pos > l.fieldStart) {
      l.kindStart[l.kind] = l.fieldStart;
      l.kindEnd[l.kind] = pos;
    }
    const int32_t before = kindToken(tokenAt(l.chunk, pos - 1));
    const uint64_t k = (cls & kClassNewline) ? hashStep(1, token)
                       : (cls & kClassSpace) ? hashStep(hashStep(2, before), kindToken(token))
                                             : hashStep(hashStep(3, token), before);
    static_assert(kSiblingKinds == 256, "a kind is the top 8 bits of its hash");
    l.kind = static_cast<int32_t>(k >> 56);
    l.sibling = l.kindEnd[l.kind] > 0 ? l.kindStart[l.kind] : -1;
    l.siblingEnd = l.kindEnd[l.kind];
    l.sameSoFar = l.sibling >= 0;
  }

  // Follows the lane through lines, fields and words once `token` at `pos` is known.
  void advanceStructure(LaneState& l, int32_t pos, int32_t token) {
    const uint8_t cls = classes[static_cast<size_t>(token)];
    if (cfg.contexts & kContextSibling) followSibling(l, pos, token, cls);
    if (cls & kClassNewline) {
      const int32_t n = l.field + 1 < kFields ? l.field + 1 : kFields;
      for (int32_t f = 0; f < n; ++f) l.prevStarts[f] = l.starts[f];
      l.prevFields = n;
      l.prevEnd = pos;
      l.field = 0;
      l.fieldStart = pos + 1;
      l.starts[0] = pos + 1;
      l.prevWord = hashStep(l.word, token);
      l.word = 0;
    } else if (cls & (kClassSpace | kClassDelimiter)) {
      // A space starts the next field with this token; a delimiter ends this one.
      ++l.field;
      l.fieldStart = (cls & kClassSpace) ? pos : pos + 1;
      if (l.field < kFields) l.starts[l.field] = l.fieldStart;
      if (cls & kClassSpace) {
        if (l.word != 0) l.prevWord = l.word;
        l.word = hashStep(0, token);
      } else {
        l.prevWord = hashStep(l.word, token);
        l.word = 0;
      }
    } else {
      l.word = hashStep(l.word, token);
    }
  }

  // The token the lane's match predicts, or -1 when there is none (or it is not known yet).
  int32_t matchPrediction(const LaneState& l) const {
    if (l.matchLength == 0 && !l.recovering) return -1;
    if (l.matchPos >= known[l.matchChunk]) return -1;
    return chunks[l.matchChunk][l.matchPos];
  }

  void addCandidate(int32_t token, int32_t* cand, int32_t& n) {
    if (n >= cfg.maxCandidates || isCandidate[token]) return;
    isCandidate[token] = 1;
    cand[n++] = token;
  }

  // A context's tokens as candidates, most frequent first.
  void addSlotCandidates(const Slot* s, int32_t* cand, int32_t& n) {
    int32_t idx[kEntries];
    int32_t m = 0;
    for (int32_t i = 0; i < kEntries; ++i) {
      if (s->count[i] == 0) continue;
      int32_t j = m++;
      while (j > 0 && s->count[idx[j - 1]] < s->count[i]) {
        idx[j] = idx[j - 1];
        --j;
      }
      idx[j] = i;
    }
    for (int32_t i = 0; i < m; ++i) addCandidate(s->token[idx[i]], cand, n);
  }

  LaneState& laneOf(int32_t lane, int32_t chunk) {
    LaneState& l = lanes[lane];
    if (l.chunk != chunk) {
      l = LaneState{};
      l.chunk = chunk;
    }
    return l;
  }

  void predict(int32_t lane, int32_t chunk, int32_t pos, FreqTable& table) {
    LaneState& l = laneOf(lane, chunk);
    uint64_t orderHash[kMaxContexts];
    contextHashes(l, chunk, pos, orderHash);
    Slot* slot[kMaxContexts];
    for (int32_t k = 0; k < nContexts; ++k) slot[k] = orders[k].find(orderHash[k]);
    const int32_t predicted = matchPrediction(l);

    // Candidates: the match's token, then each order's tokens from the
    // deepest order down (most frequent first), then the structure
    // contexts', then the LLM's favourite.
    int32_t cand[kMaxCandidates];
    int32_t n = 0;
    if (predicted >= 0) addCandidate(predicted, cand, n);
    for (int32_t k = cfg.nOrders - 1; k >= 0 && n < cfg.maxCandidates; --k)
      if (slot[k]) addSlotCandidates(slot[k], cand, n);
    for (int32_t k = cfg.nOrders; k < nContexts && n < cfg.maxCandidates; ++k)
      if (slot[k]) addSlotCandidates(slot[k], cand, n);
    addCandidate(table.argmax, cand, n);

    int32_t left[kMaxContexts];
    int32_t deepest = 0;  // 1 + the deepest order whose context was seen; 0 for none
    for (int32_t k = 0; k < nContexts; ++k) {
      left[k] = slot[k] ? ContextTable::total(*slot[k]) : 0;
      if (slot[k] && k < cfg.nOrders) deepest = k + 1;
    }
    const int32_t matchCell = lengthBucket(l.matchLength);
    const uint32_t prevToken = static_cast<uint32_t>(tokenAt(chunk, pos - 1) + 1) * 2654435761u >> 22;
    const int32_t fieldSet = (l.field < kFields / 4 - 1 ? l.field : kFields / 4 - 1) * kRankBuckets;
    const int32_t aboveToken = (cfg.mixing & kMixingFieldSet) ? above(l, pos, 0) : -1;

    uint32_t freq[kMaxCandidates];
    const int64_t nRest = static_cast<int64_t>(nVocab) - n;
    // What the other tokens keep at least: their floor of 1 each and a little more.
    const int64_t reserve = nRest + (nRest > 4096 ? nRest : 4096);
    uint64_t mass = kTotal - static_cast<uint64_t>(reserve) - static_cast<uint64_t>(n);
    // The LLM's mass outside candidates j.. : the exact remainder plus the
    // later candidates, added back (all positive: no cancellation).
    double rest[kMaxCandidates + 1];
    rest[n] = table.sumWithout(cand, n);
    for (int32_t j = n - 1; j >= 0; --j) rest[j] = rest[j + 1] + static_cast<double>(table.expv[cand[j]]);
    for (int32_t j = 0; j < n; ++j) {
      Decision& d = decisions[j];
      const int32_t c = cand[j];
      d.token = c;
      // The LLM's probability of c given that it is none of the earlier candidates.
      const double pc = rest[j] > 0 ? static_cast<double>(table.expv[c]) / rest[j] : 1.0;
      const int32_t pLlm = clampInt(static_cast<int32_t>(pc * 65536.0), 1, 65535);
      d.x[0] = stretch(static_cast<uint32_t>(pLlm));
      int32_t best = 0;
      for (int32_t k = 0; k < nContexts; ++k) {
        if (!slot[k]) {
          d.x[1 + k] = 0;
          d.cell[k] = -1;
          continue;
        }
        const int32_t cnt = countOf(slot[k], c);
        if (cnt > 0 && k < cfg.nOrders) best = k + 1;
        d.cell[k] = k * kBuckets * kBuckets + countBucket(cnt) * kBuckets + countBucket(left[k]);
        d.x[1 + k] = stretch(static_cast<uint32_t>(orderEstimates.p16(d.cell[k])));
        left[k] -= cnt;
      }
      int32_t matchState = 0;
      d.matchCell = -1;
      d.x[1 + nContexts] = 0;
      if (predicted >= 0) {
        matchState = c == predicted ? 1 : 2;
        if (c == predicted) {
          d.matchCell = matchCell;
          d.x[1 + nContexts] = stretch(static_cast<uint32_t>(matchEstimates.p16(matchCell)));
        }
      }
      d.x[2 + nContexts] = 256;
      const int32_t rank = j < kRankBuckets - 1 ? j : kRankBuckets - 1;
      const int32_t orderBucket = best == 0 ? 0 : best <= 2 ? 1 : best <= 4 ? 2 : 3;
      d.set[0] = (rank * kMatchStates + matchState) * kOrderBuckets + orderBucket;
      d.set[1] = deepest * kBuckets + (deepest > 0 ? countBucket(countOf(slot[deepest - 1], c)) : 0);
      d.set[2] = rank * kLlmBuckets + ((d.x[0] + kStretchMax + 1) >> 9);
      if (nMixers > kMixers) d.set[3] = (fieldSet + rank) * 2 + (c == aboveToken ? 1 : 0);
      int32_t st = 0;
      for (int32_t m = 0; m < nMixers; ++m) {
        const int32_t* w = &weights[m][static_cast<size_t>(d.set[m]) * nInputs];
        int64_t dot = 0;
        for (int32_t i = 0; i < nInputs; ++i) dot += static_cast<int64_t>(d.x[i]) * w[i];
        d.st[m] = clampInt(static_cast<int32_t>(dot >> 16), -kStretchMax, kStretchMax);
        st += d.st[m];
      }
      if (cfg.mixing & kMixingLayer2) {
        d.set2 = rank * kMatchStates + matchState;
        const int32_t* v = &layer2[static_cast<size_t>(d.set2) * nMixers];
        int64_t dot = 0;
        for (int32_t m = 0; m < nMixers; ++m) dot += static_cast<int64_t>(d.st[m]) * v[m];
        st = clampInt(static_cast<int32_t>(dot >> 16), -kStretchMax, kStretchMax);
        d.st2 = st;
      } else {
        st /= nMixers;
      }
      // The refinement interpolates between two buckets; it learns at the nearer one.
      const int32_t pos12 = st + kStretchMax + 1;  // 0..4095
      const int32_t lo = d.set[0] * kApmBuckets + (pos12 >> 7), frac = pos12 & 127;
      d.apmCell = lo + (frac >> 6);
      const int32_t pApm = (apm.p16(lo) * (128 - frac) + apm.p16(lo + 1) * frac) >> 7;
      const int32_t lo2 = ((prevToken * 2 + (j > 0 ? 1 : 0)) & (kApm2Contexts - 1)) * kApmBuckets + (pos12 >> 7);
      d.apm2Cell = lo2 + (frac >> 6);
      const int32_t pApm2 = (apm2.p16(lo2) * (128 - frac) + apm2.p16(lo2 + 1) * frac) >> 7;
      d.p16 = clampInt((2 * squash(st) + 3 * pApm + 3 * pApm2) >> 3, 1, 65535);
      // P(c_j) = p_j of what the earlier decisions left; at least 1, and room for 1 each after.
      uint64_t f = (mass * static_cast<uint64_t>(d.p16)) >> 16;
      const uint64_t room = mass - static_cast<uint64_t>(n - j - 1);
      f = f < 1 ? 1 : f > room ? room : f;
      freq[j] = static_cast<uint32_t>(f);
      mass -= f;
    }
    for (int32_t j = 0; j < n; ++j) isCandidate[cand[j]] = 0;
    uint64_t candidateCounts = 0;
    for (int32_t j = 0; j < n; ++j) candidateCounts += order0[cand[j]];
    restMix.restSum = rest[n];
    restMix.wModel = restWeight[0];
    restMix.counts = order0.data();
    restMix.countSum = static_cast<double>(order0Total - candidateCounts);
    restMix.wCounts = restWeight[1];
    table.fillMixed(cand, freq, n, restMix);
    pendingExp = table.expv.data();
    pendingRest = nVocab - n;
    nDecisions = n;
    pendingLane = lane;
    pendingChunk = chunk;
    pendingPos = pos;
  }

  void learn(int32_t token) {
    for (int32_t j = 0; j < nDecisions; ++j) {
      const Decision& d = decisions[j];
      const bool y = d.token == token;
      for (int32_t m = 0; m < nMixers; ++m) {
        // Each mixer learns from its own output's error.
        const int64_t err = (y ? 65536 : 0) - squash(d.st[m]);
        int32_t* w = &weights[m][static_cast<size_t>(d.set[m]) * nInputs];
        for (int32_t i = 0; i < nInputs; ++i) {
          const int64_t step = (static_cast<int64_t>(d.x[i]) * err * cfg.learningRate + (1 << 19)) >> 20;
          w[i] = clampInt(static_cast<int32_t>(w[i] + step), -kWeightClamp, kWeightClamp);
        }
      }
      if (cfg.mixing & kMixingLayer2) {
        const int64_t err = (y ? 65536 : 0) - squash(d.st2);
        int32_t* v = &layer2[static_cast<size_t>(d.set2) * nMixers];
        for (int32_t m = 0; m < nMixers; ++m) {
          const int64_t step = (static_cast<int64_t>(d.st[m]) * err * cfg.learningRate + (1 << 20)) >> 21;
          v[m] = clampInt(static_cast<int32_t>(v[m] + step), -kWeightClamp, kWeightClamp);
        }
      }
      apm.learn(d.apmCell, y);
      apm2.learn(d.apm2Cell, y);
      for (int32_t k = 0; k < nContexts; ++k)
        if (d.cell[k] >= 0) orderEstimates.learn(d.cell[k], y);
      if (d.matchCell >= 0) matchEstimates.learn(d.matchCell, y);
      if (y) return;  // the chain stops at the token: later decisions never happened
    }
    // One of the rest: how well did each part of the rest's mixture predict it?
    const double parts[3] = {restMix.restSum > FreqTable::kNegligibleRest ? static_cast<double>(pendingExp[token]) / restMix.restSum : 0.0,
                             restMix.countSum > 0 ? static_cast<double>(order0[token]) / restMix.countSum : 0.0,
                             pendingRest > 0 ? 1.0 / pendingRest : 0.0};
    const double q = restWeight[0] * parts[0] + restWeight[1] * parts[1] + restWeight[2] * parts[2];
    if (q <= 0) return;
    constexpr double kShare = 1.0 / 64;
    for (int32_t i = 0; i < 3; ++i) restWeight[i] = (restWeight[i] * parts[i] / q) * (1 - kShare) + kShare / 3;
  }

  void update(int32_t lane, int32_t chunk, int32_t pos, int32_t token) {
    LaneState& l = laneOf(lane, chunk);
    if (pendingLane == lane && pendingChunk == chunk && pendingPos == pos) learn(token);
    pendingLane = -1;
    nDecisions = 0;

    uint64_t orderHash[kMaxContexts];
    contextHashes(l, chunk, pos, orderHash);
    for (int32_t k = 0; k < nContexts; ++k) orders[k].add(orderHash[k], token, cfg.countLimit);
    if (cfg.contexts != 0 || (cfg.mixing & kMixingFieldSet)) advanceStructure(l, pos, token);
    ++order0[token];
    if (++order0Total > (1u << 22)) {
      order0Total = 0;
      for (uint32_t& c : order0) order0Total += c >>= 1;
    }
    // Match model: extend the match if it predicted right, else drop it and
    // look up the context that ends with this token.
    if (l.matchLength > 0 || l.recovering) {
      if (matchPrediction(l) == token) {
        // A recovered match resumes at a length that says it broke recently.
        l.matchLength = l.recovering ? l.recovering : l.matchLength < 65535 ? l.matchLength + 1 : 65535;
        l.recovering = 0;
        ++l.matchPos;
      } else if (l.matchLength >= cfg.matchRecoverLength && cfg.matchRecoverLength > 0) {
        // Typically one field of a repeated line differs: assume the token
        // was replaced and try the match's next one.
        l.recovering = l.matchLength / 4 > 0 ? l.matchLength / 4 : 1;
        l.matchLength = 0;
        ++l.matchPos;
      } else {
        l.matchLength = 0;
        l.recovering = 0;
      }
    }
    known[chunk] = pos + 1;
    uint64_t h = 0;
    for (int32_t i = 0; i < cfg.matchMinLength; ++i) h = hashStep(h, tokenAt(chunk, pos - (cfg.matchMinLength - 1) + i));
    uint64_t& entry = matchTable[h >> (64 - matchBits)];
    if (l.matchLength == 0 && entry != 0) {
      const int32_t mc = static_cast<int32_t>((entry >> 32) - 1);
      const int32_t mp = static_cast<int32_t>(entry & 0xFFFFFFFFu);
      // Verify (the table is hashed) and measure how far back the match reaches.
      int32_t len = 0;
      while (len < 64 && tokenAt(mc, mp - 1 - len) == tokenAt(chunk, pos - len)) {
        ++len;
        if (mp - 1 - len < 0 && pos - len < 0) break;
      }
      if (len >= cfg.matchMinLength) {
        l.recovering = 0;
        l.matchLength = len;
        l.matchChunk = mc;
        l.matchPos = mp;
      }
    }
    entry = (static_cast<uint64_t>(chunk) + 1) << 32 | static_cast<uint32_t>(pos + 1);
  }
};

ContextMixer::ContextMixer(const MixerConfig& cfg, int32_t nVocab, int32_t lanes, const std::vector<std::vector<int32_t>>& chunks,
                           int64_t totalTokens, const std::vector<uint8_t>& classes)
    : impl_(new Impl(cfg, nVocab, lanes, chunks, totalTokens, classes)) {}

ContextMixer::~ContextMixer() { delete impl_; }

void ContextMixer::predict(int32_t lane, int32_t chunk, int32_t pos, FreqTable& table) { impl_->predict(lane, chunk, pos, table); }

void ContextMixer::update(int32_t lane, int32_t chunk, int32_t pos, int32_t token) { impl_->update(lane, chunk, pos, token); }

}  // namespace llmzip
