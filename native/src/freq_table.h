// Logits -> integer frequency table with total exactly 2^31 and every token >= 1.
//
// Encoder and decoder must build bit-identical tables from identical logits,
// on any x86-64 machine. So the exponential is our own polynomial (no libm,
// whose results vary by version), the file is compiled with
// -ffp-contract=off (no fused multiply-add), and every reduction has a fixed
// association order. Element-wise IEEE operations give the same result
// whether the compiler vectorises them or not.
#pragma once

#include <cstdint>
#include <cstddef>
#include <vector>

namespace llmzip {

struct FreqTable {
  static constexpr int32_t kMaxExcluded = 64;  // most tokens fillMixed() may assign
  // A rest mass (relative to the maximum's exp of 1) below which fillMixed()
  // ignores the model's part of the rest: it is noise, and its scale would overflow.
  static constexpr double kNegligibleRest = 1e-12;

  std::vector<float> expv;     // exp(logit - max), reused between calls
  std::vector<uint32_t> freq;  // the table itself
  double sum = 0;              // sum of expv
  float maxLogit = 0;
  int32_t argmax = 0;           // first token whose exponential is exactly 1

  // The bare model's table: prepare() then fill().
  // Returns false when the logits contain NaN or +inf (a broken model or backend).
  bool build(const float* logits, int32_t n);

  // First half of a table: maximum, exponentials, their sum and the argmax.
  // Between prepare() and a fill, a mixer may read expv and sum.
  bool prepare(const float* logits, int32_t n);

  // Second half: the model's own table, every token in proportion to exp.
  void fill();

  // How the tokens outside the assigned ones share what is left: in
  // proportion to wModel * exp / restSum + wCounts * counts / countSum +
  // (1 - wModel - wCounts) / their number.
  struct RestMix {
    double restSum = 0;                // sumWithout(the assigned tokens)
    double wModel = 1;
    const uint32_t* counts = nullptr;  // per token, each < 2^24; may be null
    double countSum = 0;               // sum of counts over the rest
    double wCounts = 0;
  };

  // Second half for a mixed distribution: `tokens[k]` (distinct, at most
  // kMaxExcluded) get exactly `tokenFreq[k]` (each >= 1); every other token
  // shares what remains of the total as `mix` says, at least 1 each. The
  // caller leaves room for those ones: sum(tokenFreq) + (n - count) <= 2^31.
  void fillMixed(const int32_t* tokens, const uint32_t* tokenFreq, int32_t count, const RestMix& mix);

  // sum less the exponentials of `tokens` (distinct), accurate even when they hold nearly all of it.
  double sumWithout(const int32_t* tokens, int32_t count) const;

  // -log2 of the model's own probability of token t, from the same exponentials.
  double modelBits(const float* logits, int32_t t) const;

  // Sum of freq[0..t): the coder's cumulative frequency.
  uint64_t cumulative(int32_t t) const;

  // The symbol whose interval holds target, and its cumulative frequency.
  int32_t find(uint64_t target, uint64_t* cum) const;

 private:
  // freq[i] = 1 + floor(expv[i] * scale + base) for every token; returns their sum.
  uint64_t floorShares(float scale, float base);
  // The same plus counts[i] * countScale.
  uint64_t floorSharesMixed(float scale, const uint32_t* counts, float countScale, float base);
};

}  // namespace llmzip
