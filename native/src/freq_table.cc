#include "freq_table.h"

#include <cmath>
#include <type_traits>
#include <cstring>
#include <stdexcept>

#include "range_coder.h"

namespace llmzip {

namespace {

// The loops below work on 8 lanes at once through GCC vector types: the
// compiler emits SIMD code for whatever the build targets, and every lane
// performs the same IEEE operations in the same order as at any other
// width, so the tables are identical on every x86-64 machine.
typedef float F8 __attribute__((vector_size(32)));
typedef int32_t I8 __attribute__((vector_size(32)));
typedef uint32_t U8 __attribute__((vector_size(32)));
constexpr int W = 8;
// prepare() sums float partials over blocks of this many elements.
constexpr int32_t kBlock = 8 * W;

inline F8 load(const float* p) {
  F8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// exp(x) for x <= 0 in single precision: range reduction by ln 2 (split in a
// high and a low part), a degree-6 Taylor polynomial on [-ln2/2, ln2/2], and
// the power of two assembled from bits. Relative error about 2e-7.
template <typename V, typename I>
inline V expNonPositive(V x) {
  x = x < -87.0f ? V{} - 87.0f : x;  // keeps 2^n a normal float; e^-87 is negligible beside the floor of 1
  const V t = x * 1.44269504088896341f;
  const float shifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const V n = (t + shifter) - shifter;
  const V f = (x - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;
  V p = V{} + 1.0f / 720.0f;
  p = p * f + 1.0f / 120.0f;
  p = p * f + 1.0f / 24.0f;
  p = p * f + 1.0f / 6.0f;
  p = p * f + 0.5f;
  p = p * f + 1.0f;
  p = p * f + 1.0f;
  I bits;
  if constexpr (std::is_same_v<V, float>) bits = static_cast<I>(n);
  else bits = __builtin_convertvector(n, I);
  bits = (bits + 127) << 23;
  V scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

inline float expScalar(float x) { return expNonPositive<float, int32_t>(x); }

}  // namespace

// The exponentials of one logit row: the hot loop of the whole coder. The
// compiler makes an AVX-512, an AVX2 and a baseline copy and picks one at run
// time; all three compute the same bits, because every lane does the same
// IEEE operations in the same order whatever the vector width.
__attribute__((target_clones("avx512f", "avx2", "default")))
bool FreqTable::prepare(const float* logits, int32_t n) {
  expv.resize(n);
  freq.resize(n);
  const int32_t body = n - n % W;

  // Max and NaN detection. A NaN compares unequal to itself.
  F8 mx8 = F8{} + logits[0];
  I8 nan8 = {};
  for (int32_t i = 0; i < body; i += W) {
    const F8 v = load(logits + i);
    nan8 |= v != v;
    mx8 = v > mx8 ? v : mx8;
  }
  float mx = logits[0];
  bool nan = false;
  for (int k = 0; k < W; ++k) {
    mx = mx8[k] > mx ? mx8[k] : mx;
    nan |= nan8[k] != 0;
  }
  for (int32_t i = body; i < n; ++i) {
    nan |= logits[i] != logits[i];
    mx = logits[i] > mx ? logits[i] : mx;
  }
  if (nan || std::isinf(mx)) return false;  // NaN, +inf, or every logit -inf
  maxLogit = mx;

  // Exponentials. Sums run in float over blocks of kBlock elements per lane
  // (too short to lose precision that matters) and blocks add up in double,
  // all in a fixed order.
  float* e = expv.data();
  double acc[W] = {};
  for (int32_t b = 0; b < body; b += kBlock) {
    const int32_t stop = b + kBlock < body ? b + kBlock : body;
    F8 part = {};
    for (int32_t i = b; i < stop; i += W) {
      const F8 x = expNonPositive<F8, I8>(load(logits + i) - mx);
      std::memcpy(e + i, &x, sizeof x);
      part += x;
    }
    for (int k = 0; k < W; ++k) acc[k] += part[k];
  }
  for (int32_t i = body; i < n; ++i) {
    e[i] = expScalar(logits[i] - mx);
    acc[0] += e[i];
  }
  sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  int32_t am = 0;
  while (e[am] != 1.0f) ++am;
  argmax = am;
  return true;
}

// Every token gets 1; the budget less those ones is shared in proportion to
// exp, in float: 1 + floor(e * scale + base). The budget is trimmed by 2^-20
// so that no share can round up past it (or past int32); the floored shares
// sum to at most the budget. Returns the sum of all entries.
__attribute__((target_clones("avx512f", "avx2", "default")))
uint64_t FreqTable::floorShares(float scale, float base) {
  const int32_t n = static_cast<int32_t>(freq.size());
  const int32_t body = n - n % W;
  const float* e = expv.data();
  uint32_t* f = freq.data();
  U8 tot = {};
  for (int32_t i = 0; i < body; i += W) {
    const U8 v = __builtin_convertvector(__builtin_convertvector(load(e + i) * scale + base, I8), U8) + 1;
    std::memcpy(f + i, &v, sizeof v);
    tot += v;
  }
  uint64_t total = 0;
  for (int k = 0; k < W; ++k) total += tot[k];
  for (int32_t i = body; i < n; ++i) {
    f[i] = 1u + static_cast<uint32_t>(static_cast<int32_t>(e[i] * scale + base));
    total += f[i];
  }
  return total;
}

void FreqTable::fill() {
  const int32_t n = static_cast<int32_t>(freq.size());
  const float scale = static_cast<float>(static_cast<double>(kTotal - static_cast<uint64_t>(n)) * (1.0 - 0x1p-20) / sum);
  const uint64_t total = floorShares(scale, 0.0f);  // + 0 changes no product: the bare table of before
  // The leftover goes to the first token whose exponential is exactly 1 (the
  // maximum has one; a near-tie may come earlier). total <= kTotal by
  // construction; the signed form keeps a violation visible as a wrong
  // table, not a wrapped one.
  freq[argmax] = static_cast<uint32_t>(static_cast<int64_t>(freq[argmax]) + (static_cast<int64_t>(kTotal) - static_cast<int64_t>(total)));
}

bool FreqTable::build(const float* logits, int32_t n) {
  if (!prepare(logits, n)) return false;
  fill();
  return true;
}

double FreqTable::sumWithout(const int32_t* tokens, int32_t count) const {
  // `sum` minus the exponentials of `tokens`, without the cancellation that
  // plain subtraction suffers when those tokens hold nearly all the mass:
  // each affected float partial of prepare() is taken out exactly as it went
  // in and put back summed without the excluded tokens.
  const int32_t n = static_cast<int32_t>(expv.size());
  const int32_t body = n - n % W;
  const float* e = expv.data();
  if (count > kMaxExcluded) throw std::logic_error("too many tokens excluded from a table sum");
  double s = sum;
  int32_t groups[kMaxExcluded];
  int32_t nGroups = 0;
  for (int32_t k = 0; k < count; ++k) {
    const int32_t t = tokens[k];
    if (t >= body) {
      s -= e[t];
      continue;
    }
    // The partial holding t: lane t % W of the block starting at t - t % kBlock.
    const int32_t group = t - t % kBlock + t % W;
    bool seen = false;
    for (int32_t g = 0; g < nGroups; ++g) seen |= groups[g] == group;
    if (seen) continue;
    groups[nGroups++] = group;
    int32_t members[kMaxExcluded];
    int32_t nMembers = 0;
    for (int32_t m = k; m < count; ++m)
      if (tokens[m] < body && tokens[m] - tokens[m] % kBlock + tokens[m] % W == group) members[nMembers++] = tokens[m];
    const int32_t blockStart = t - t % kBlock;
    const int32_t stop = blockStart + kBlock < body ? blockStart + kBlock : body;
    float with = 0, without = 0;
    for (int32_t i = group; i < stop; i += W) {
      with += e[i];
      bool excluded = false;
      for (int32_t m = 0; m < nMembers; ++m) excluded |= members[m] == i;
      if (!excluded) without += e[i];
    }
    s = (s - static_cast<double>(with)) + static_cast<double>(without);
  }
  return s > 0 ? s : 0;
}

// The rest's shares with counts: 1 + floor((e * se + c * sc) + base) per
// token, the same trimmed-budget argument as floorShares for each part.
__attribute__((target_clones("avx512f", "avx2", "default")))
uint64_t FreqTable::floorSharesMixed(float se, const uint32_t* counts, float sc, float base) {
  const int32_t n = static_cast<int32_t>(freq.size());
  const int32_t body = n - n % W;
  const float* e = expv.data();
  uint32_t* f = freq.data();
  U8 tot = {};
  for (int32_t i = 0; i < body; i += W) {
    U8 c;
    std::memcpy(&c, counts + i, sizeof c);
    const F8 x = (load(e + i) * se + __builtin_convertvector(c, F8) * sc) + base;
    const U8 v = __builtin_convertvector(__builtin_convertvector(x, I8), U8) + 1;
    std::memcpy(f + i, &v, sizeof v);
    tot += v;
  }
  uint64_t total = 0;
  for (int k = 0; k < W; ++k) total += tot[k];
  for (int32_t i = body; i < n; ++i) {
    const float x = (e[i] * se + static_cast<float>(counts[i]) * sc) + base;
    f[i] = 1u + static_cast<uint32_t>(static_cast<int32_t>(x));
    total += f[i];
  }
  return total;
}

void FreqTable::fillMixed(const int32_t* tokens, const uint32_t* tokenFreq, int32_t count, const RestMix& mix) {
  const int32_t n = static_cast<int32_t>(freq.size());
  if (count > kMaxExcluded) throw std::logic_error("too many tokens assigned in a mixed table");
  uint64_t assigned = 0;
  for (int32_t k = 0; k < count; ++k) assigned += tokenFreq[k];
  const int64_t rest = static_cast<int64_t>(kTotal) - static_cast<int64_t>(assigned);
  const int32_t nRest = n - count;
  // What the rest shares beyond the floor of 1 each, trimmed as in fill().
  const double share = nRest > 0 && rest > nRest ? static_cast<double>(rest - nRest) * (1.0 - 0x1p-20) : 0.0;
  const bool useCounts = mix.counts && mix.countSum > 0;
  const double wCounts = useCounts ? mix.wCounts : 0.0;
  // The exponentials are relative to the maximum (1). When the candidates
  // hold all but a negligible part of the model's mass, its share of the rest
  // says nothing, and its scale would overflow float: give it to uniform.
  const double wModel = mix.restSum > kNegligibleRest ? mix.wModel : 0.0;
  const double wUniform = 1.0 - wModel - wCounts;
  float se = wModel > 0 ? static_cast<float>(share * wModel / mix.restSum) : 0.0f;
  float sc = wCounts > 0 ? static_cast<float>(share * wCounts / mix.countSum) : 0.0f;
  float base = nRest > 0 && wUniform > 0 ? static_cast<float>(share * wUniform / nRest) : 0.0f;
  int32_t retries = 0;
  for (;;) {
    int64_t total = static_cast<int64_t>(useCounts ? floorSharesMixed(se, mix.counts, sc, base) : floorShares(se, base));
    for (int32_t k = 0; k < count; ++k) {
      total += static_cast<int64_t>(tokenFreq[k]) - static_cast<int64_t>(freq[tokens[k]]);
      freq[tokens[k]] = tokenFreq[k];
    }
    const int64_t leftover = static_cast<int64_t>(kTotal) - total;
    if (leftover >= 0) {
      freq[argmax] = static_cast<uint32_t>(static_cast<int64_t>(freq[argmax]) + leftover);
      return;
    }
    // Only an inexact restSum can overshoot; shrink and share again (both
    // sides take the same path).
    if (++retries > 200 || (se == 0.0f && sc == 0.0f && base == 0.0f))
      throw std::logic_error("mixed table: the assigned frequencies leave no room for the other tokens");
    se = se < 1e-30f ? 0.0f : se * 0.5f;
    sc = sc < 1e-30f ? 0.0f : sc * 0.5f;
    base = base < 1e-30f ? 0.0f : base * 0.5f;
  }
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
