// Fixed-point logistic functions for the context mixer.
//
// Probabilities are 16-bit (p in 1..65535 out of 65536); the logistic domain
// ("stretch units") is ln(p / (1 - p)) in steps of 1/256, clamped to
// [-2047, 2047]. Both tables are built once from an exponential made of IEEE
// basic operations only (no libm), so every machine builds the same bits.
#pragma once

#include <cstdint>

namespace llmzip {

constexpr int32_t kStretchMax = 2047;

// 65536 / (1 + e^(-x / 256)) rounded, clamped to [1, 65535]; x is clamped to the domain.
int32_t squash(int32_t x);

// The inverse of squash: the smallest x whose squash reaches p (p in 0..65535).
int32_t stretch(uint32_t p16);

// e^x for |x| < 700 from basic IEEE double operations only, the same on every machine.
double deterministicExp(double x);

}  // namespace llmzip
