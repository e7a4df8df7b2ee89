#include "logistic.h"

#include <cstring>
#include <vector>

namespace llmzip {

double deterministicExp(double x) {
  // x = k ln2 + r with |r| <= ln2 / 2; e^r by its Taylor series (the terms
  // past the 18th are below double precision), then 2^k from bits.
  const double ln2 = 0.69314718055994530942;
  const double t = x / ln2;
  const int32_t k = static_cast<int32_t>(t >= 0 ? t + 0.5 : t - 0.5);
  const double r = x - static_cast<double>(k) * ln2;
  double sum = 1.0;
  for (int32_t i = 18; i >= 1; --i) sum = 1.0 + sum * r / static_cast<double>(i);
  const uint64_t bits = static_cast<uint64_t>(k + 1023) << 52;
  double scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return sum * scale;
}

namespace {

struct Tables {
  int32_t squash[2 * kStretchMax + 1];
  std::vector<int16_t> stretch;

  Tables() : stretch(65536) {
    for (int32_t x = -kStretchMax; x <= kStretchMax; ++x) {
      const double p = 65536.0 / (1.0 + deterministicExp(-static_cast<double>(x) / 256.0));
      int32_t v = static_cast<int32_t>(p + 0.5);
      v = v < 1 ? 1 : v > 65535 ? 65535 : v;
      squash[x + kStretchMax] = v;
    }
    uint32_t p = 0;
    for (int32_t x = -kStretchMax; x <= kStretchMax; ++x) {
      const uint32_t v = static_cast<uint32_t>(squash[x + kStretchMax]);
      for (; p <= v && p < 65536; ++p) stretch[p] = static_cast<int16_t>(x);
    }
    for (; p < 65536; ++p) stretch[p] = kStretchMax;
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

int32_t squash(int32_t x) {
  x = x < -kStretchMax ? -kStretchMax : x > kStretchMax ? kStretchMax : x;
  return tables().squash[x + kStretchMax];
}

int32_t stretch(uint32_t p16) { return tables().stretch[p16 & 0xFFFF]; }

}  // namespace llmzip
