#include "freq_table.h"

#include <cmath>
#include <cstring>

#include "range_coder.h"

namespace llmzip {

namespace {

// exp(x) for x <= 0 in single precision: range reduction by ln 2 (split in a
// high and a low part), a degree-6 Taylor polynomial on [-ln2/2, ln2/2], and
// the power of two assembled from bits. Relative error about 2e-7.
inline float expNonPositive(float x) {
  if (x < -87.0f) x = -87.0f;  // keeps 2^n a normal float; e^-87 is negligible beside the floor of 1
  const float t = x * 1.44269504088896341f;
  const float shifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float n = (t + shifter) - shifter;
  const float f = (x - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;
  float p = 1.0f / 720.0f;
  p = p * f + 1.0f / 120.0f;
  p = p * f + 1.0f / 24.0f;
  p = p * f + 1.0f / 6.0f;
  p = p * f + 0.5f;
  p = p * f + 1.0f;
  p = p * f + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

}  // namespace

bool FreqTable::build(const float* logits, int32_t n) {
  expv.resize(n);
  freq.resize(n);
  float mx = logits[0];
  int32_t am = 0;
  for (int32_t i = 0; i < n; ++i) {
    const float v = logits[i];
    if (std::isnan(v)) return false;
    if (v > mx) {
      mx = v;
      am = i;
    }
  }
  if (std::isinf(mx)) return false;  // +inf, or every logit -inf
  maxLogit = mx;
  argmax = am;

  float* e = expv.data();
  for (int32_t i = 0; i < n; ++i) e[i] = expNonPositive(logits[i] - mx);

  // Eight independent accumulators combined in a fixed order.
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int32_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) acc[k] += e[i + k];
  for (; i < n; ++i) acc[0] += e[i];
  sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));

  // Every token gets 1; the rest of the total is shared in proportion to
  // exp. The factor just below 1 keeps the floored sum from exceeding the
  // budget through rounding; the leftover goes to the most likely token.
  const double budget = static_cast<double>(kTotal - static_cast<uint64_t>(n));
  const double scale = budget * (1.0 - 1e-12) / sum;
  uint32_t* f = freq.data();
  for (int32_t j = 0; j < n; ++j) f[j] = 1u + static_cast<uint32_t>(static_cast<double>(e[j]) * scale);
  uint64_t total = 0;
  for (int32_t j = 0; j < n; ++j) total += f[j];
  // total <= kTotal by construction; the signed form keeps a violation visible as a wrong table, not a wrapped one.
  f[am] = static_cast<uint32_t>(static_cast<int64_t>(f[am]) + (static_cast<int64_t>(kTotal) - static_cast<int64_t>(total)));
  return true;
}

double FreqTable::modelBits(const float* logits, int32_t t) const {
  return std::log2(sum) - static_cast<double>(logits[t] - maxLogit) * 1.4426950408889634;
}

uint64_t FreqTable::cumulative(int32_t t) const {
  uint64_t c = 0;
  const uint32_t* f = freq.data();
  for (int32_t i = 0; i < t; ++i) c += f[i];
  return c;
}

int32_t FreqTable::find(uint64_t target, uint64_t* cum) const {
  uint64_t c = 0;
  const uint32_t* f = freq.data();
  const int32_t n = static_cast<int32_t>(freq.size());
  for (int32_t i = 0; i < n; ++i) {
    if (target < c + f[i]) {
      *cum = c;
      return i;
    }
    c += f[i];
  }
  *cum = c - f[n - 1];
  return n - 1;
}

}  // namespace llmzip
