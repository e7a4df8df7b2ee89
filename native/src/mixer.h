// Context mixing: the LLM's distribution combined with adaptive token models
// that learn from the text as it is coded.
//
// Models (all over token ids, updated after every token):
// - hashed order-k contexts (the k previous tokens of the lane's chunk), each
//   holding up to 10 following tokens with counts;
// - a match model: the latest earlier occurrence of the recent tokens
//   predicts the token that followed it;
// - token frequencies (order 0).
// The history is shared by all lanes and updated in schedule order (lane by
// lane within a step), which the decoder replays exactly, so a chunk learns
// from every chunk coded before it, on any lane.
//
// Mixing. The tokens these models propose (the candidates, a few at most)
// are coded as a chain of binary decisions "is it c1?", "else is it c2?",
// ..., "else one of the rest", so the result is a proper distribution: c_j
// gets P(c_j) = p_j * prod_{i<j} (1 - p_i), and the other tokens share what
// is left as a mixture of the LLM's probabilities, the frequencies and
// uniform. Each p_j comes from logistic mixers (weights selected by small
// contexts, trained online by gradient descent on coding cost) over the
// LLM's conditional probability of c_j and adaptive estimates from every
// model, refined by two adaptive probability maps. All arithmetic on the
// path from counts to frequencies is integer, or IEEE double in a fixed
// order without libm: encoder and decoder build bit-identical tables.
// docs/FORMAT.md describes configuration 1.
#pragma once

#include <cstdint>
#include <vector>

#include "freq_table.h"

namespace llmzip {

// One mixing configuration. Archives record its id; an id never changes meaning.
struct MixerConfig {
  int32_t id = 0;
  int32_t orders[8] = {};     // context orders of the hashed models, ascending
  int32_t nOrders = 0;
  int32_t tableBitsMax = 18;  // slots per order: at most 2^this (64 bytes each)
  int32_t matchMinLength = 5;
  int32_t matchRecoverLength = 4;  // a match at least this long survives one wrong token (0 = never)
  int32_t matchBitsMax = 22;
  int32_t maxCandidates = 16;
  int32_t countLimit = 60;    // counts halve when one passes this (recent evidence weighs more)
  int32_t stateLimit = 255;   // adaptation-rate floor of the estimates: 1 / (limit + 1.5)
  int32_t learningRate = 32;  // mixer step: weight += x * error * rate / 2^20 (x in stretch units, error in 1/65536)
};

// The configuration with this id, or nullptr when it is unknown (0 = off is unknown here too).
const MixerConfig* mixerConfig(int32_t id);

constexpr int32_t kDefaultMixer = 1;

class ContextMixer {
 public:
  // `chunks` is read only at positions already known (coded, decoded or
  // given as context); `totalTokens` sizes the tables (both sides know it).
  ContextMixer(const MixerConfig& cfg, int32_t nVocab, int32_t lanes,
               const std::vector<std::vector<int32_t>>& chunks, int64_t totalTokens);
  ~ContextMixer();
  ContextMixer(const ContextMixer&) = delete;
  ContextMixer& operator=(const ContextMixer&) = delete;

  // After table.prepare(LLM logits): fills table.freq with the mixed
  // distribution of the token at (chunk, pos), which `lane` is coding.
  void predict(int32_t lane, int32_t chunk, int32_t pos, FreqTable& table);

  // The token at (chunk, pos) is now known. Call once per position, in
  // schedule order; after predict() for coded tokens, alone for context.
  void update(int32_t lane, int32_t chunk, int32_t pos, int32_t token);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace llmzip
