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
  std::vector<float> expv;     // exp(logit - max), reused between calls
  std::vector<uint32_t> freq;  // the table itself
  double sum = 0;              // sum of expv
  float maxLogit = 0;
  int32_t argmax = 0;

  // Returns false when the logits contain NaN or +inf (a broken model or backend).
  bool build(const float* logits, int32_t n);

  // -log2 of the model's own probability of token t, from the same exponentials.
  double modelBits(const float* logits, int32_t t) const;

  // Sum of freq[0..t): the coder's cumulative frequency.
  uint64_t cumulative(int32_t t) const;

  // The symbol whose interval holds target, and its cumulative frequency.
  int32_t find(uint64_t target, uint64_t* cum) const;
};

}  // namespace llmzip
