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
// docs/FORMAT.md describes configurations 1 to 4.
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
  // Structure contexts beside the orders (kContext* bits), each a hashed
  // table like an order's; they need the token classes (TokenClass).
  int32_t contexts = 0;
  // Mixing beyond configuration 1 (kMixing* bits).
  int32_t mixing = 0;
};

// Structure contexts (MixerConfig::contexts).
constexpr int32_t kContextField = 1;    // field index in the line, offset in the field, previous token
constexpr int32_t kContextAbove = 2;    // the tokens at the same place of the same field one line up, previous token
constexpr int32_t kContextWord = 4;     // the word so far and the word before (words end at spaces and delimiters)
constexpr int32_t kContextSparse2 = 8;  // tokens 2 and 3 back (skipping the last)
constexpr int32_t kContextSparse3 = 16; // tokens 1 and 3 back (skipping one)
constexpr int32_t kContextNumber = 32;  // the offset in the field (to 31) and tokens 1 and 2 back: where a number's digits run out
constexpr int32_t kContextSibling = 64;  // the field kind, the offset (to 31), the token there in the latest field of that kind, whether this field matches it so far, previous token
constexpr int32_t kContextCount = 7;

// Mixing options (MixerConfig::mixing).
constexpr int32_t kMixingFieldSet = 1;  // a fourth weight set chosen by field index, rank and agreement with the line above
constexpr int32_t kMixingLayer2 = 2;    // a learnt second layer combines the weight sets (instead of their average)

// What a token's text holds, for the structure contexts: bits of a byte per
// token id, from the model's vocabulary (so fixed by the model the archive names).
constexpr uint8_t kClassNewline = 1;  // holds a line feed
constexpr uint8_t kClassSpace = 2;    // starts with a space or tab (starts a word)
constexpr uint8_t kClassDelimiter = 4;  // only punctuation that separates fields: , ; : | = " ' { } [ ] ( ) < > /
constexpr uint8_t kClassDigit = 8;    // digits only (after a leading space)

// The class bits of a token's text (its bytes as the vocabulary spells them).
uint8_t tokenClass(const char* text, int32_t length);

// The configuration with this id, or nullptr when it is unknown (0 = off is unknown here too).
const MixerConfig* mixerConfig(int32_t id);

class ContextMixer {
 public:
  // `chunks` is read only at positions already known (coded, decoded or
  // given as context); `totalTokens` sizes the tables (both sides know it).
  // `classes` holds tokenClass() per token id; empty reads as class 0 for all.
  ContextMixer(const MixerConfig& cfg, int32_t nVocab, int32_t lanes,
               const std::vector<std::vector<int32_t>>& chunks, int64_t totalTokens,
               const std::vector<uint8_t>& classes = {});
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
