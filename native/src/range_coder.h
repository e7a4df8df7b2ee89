// 64-bit range coder over frequency tables whose total is exactly 2^kTotalBits.
//
// The interval is kept at >= 2^56 after every symbol, so the per-symbol
// quantisation step r = range >> 31 is at least 2^25 and the coding loss from
// truncation stays below 2^-25 bits relative per symbol. Carries are
// propagated directly into the in-memory output, which keeps the state small
// and the loop branch-light.
#pragma once

#include <cstdint>
#include <cstddef>
#include <vector>

namespace llmzip {

constexpr int kTotalBits = 31;
constexpr uint64_t kTotal = 1ULL << kTotalBits;
constexpr uint64_t kRangeFloor = 1ULL << 56;
// finish() drops at most this many trailing zero bytes (the decoder reads
// missing bytes as zero). Capping it bounds how far a decoder of a whole
// stream can read past its end: 7 bytes of its 8-byte window beyond the tail
// byte, plus the dropped zeros. Anything further means the stream was cut
// short or the decoder left the encoder's path, and decoding can stop there
// instead of running through every token a header declares.
constexpr size_t kMaxDroppedZeros = 8;
constexpr size_t kMaxOverrun = 7 + kMaxDroppedZeros;

class RangeEncoder {
 public:
  void encode(uint64_t cum, uint64_t freq) {
    const uint64_t r = range_ >> kTotalBits;
    const uint64_t next = low_ + r * cum;
    if (next < low_) propagateCarry();
    low_ = next;
    range_ = r * freq;
    while (range_ < kRangeFloor) {
      out_.push_back(static_cast<uint8_t>(low_ >> 56));
      low_ <<= 8;
      range_ <<= 8;
    }
  }

  // Emits the shortest tail that pins the final interval: a value in
  // [low, low + range) whose low 56 bits are zero. The decoder reads missing
  // bytes as zero, so up to kMaxDroppedZeros trailing zero bytes are dropped.
  std::vector<uint8_t> finish() {
    const uint64_t mask = kRangeFloor - 1;
    const uint64_t value = (low_ + mask) & ~mask;
    if (value < low_) propagateCarry();
    out_.push_back(static_cast<uint8_t>(value >> 56));
    for (size_t k = 0; k < kMaxDroppedZeros && !out_.empty() && out_.back() == 0; ++k) out_.pop_back();
    low_ = 0;
    range_ = ~0ULL;
    return std::move(out_);
  }

  size_t bytesSoFar() const { return out_.size(); }

 private:
  void propagateCarry() {
    for (size_t i = out_.size(); i-- > 0;) {
      if (out_[i] != 0xFF) {
        ++out_[i];
        return;
      }
      out_[i] = 0;
    }
    // A carry out of the first byte would mean the coded value left [0, 1),
    // which the interval arithmetic rules out.
  }

  uint64_t low_ = 0;
  uint64_t range_ = ~0ULL;
  std::vector<uint8_t> out_;
};

class RangeDecoder {
 public:
  RangeDecoder(const uint8_t* data, size_t size) : p_(data), end_(data + size) {
    for (int i = 0; i < 8; ++i) code_ = (code_ << 8) | nextByte();
  }

  // The scaled target in [0, kTotal); the caller maps it to a symbol and then
  // calls consume() with that symbol's cumulative frequency and frequency.
  uint64_t target() {
    step_ = range_ >> kTotalBits;
    const uint64_t t = code_ / step_;
    // Only a corrupted stream can land past the table; clamp so that the
    // caller still finds a symbol and the checksums report the damage.
    return t < kTotal ? t : kTotal - 1;
  }

  void consume(uint64_t cum, uint64_t freq) {
    code_ -= step_ * cum;
    range_ = step_ * freq;
    while (range_ < kRangeFloor) {
      code_ = (code_ << 8) | nextByte();
      range_ <<= 8;
    }
  }

  // Bytes read past the end of the stream as zero padding. The encoder drops
  // some trailing zeros, so a few are normal.
  size_t overrun() const { return overrun_; }

  // True once the decoder has read further past the end than any whole
  // stream needs (see kMaxOverrun): the stream is truncated or damaged.
  bool exhausted() const { return overrun_ > kMaxOverrun; }

 private:
  uint64_t nextByte() {
    if (p_ < end_) return *p_++;
    ++overrun_;
    return 0;
  }

  const uint8_t* p_;
  const uint8_t* end_;
  uint64_t code_ = 0;
  uint64_t range_ = ~0ULL;
  uint64_t step_ = 1;
  size_t overrun_ = 0;
};

}  // namespace llmzip
