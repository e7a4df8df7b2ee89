// The lockstep lane schedule, shared by encoder and decoder.
//
// K lanes decode in one llama context, one token per lane per step. Chunks
// are handed to lanes in order: at the start of every step each idle lane
// takes the next unstarted chunk, lowest lane first. The schedule therefore
// depends only on the lane count and the chunk token counts, which the
// archive records, so the decoder rebuilds exactly the batches the encoder
// evaluated (llama.cpp's logits depend on the batch composition).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

struct llama_context;
struct llama_model;

namespace llmzip {

struct LaneRunStats {
  int64_t tokens = 0;
  double modelBits = 0;      // -log2 p under the model's exact softmax
  double tableBits = 0;      // -log2 (freq / 2^31) under the coded table
  double decodeSeconds = 0;  // time inside llama_decode
  double codingSeconds = 0;  // frequency tables + range coding
  int64_t steps = 0;
  int64_t gaveUpAtStep = -1;  // the checkpoint at which encoding gave up, else -1
  std::vector<double> chunkBits;       // tableBits per chunk: lets the caller compare each chunk with its fallback
  std::vector<double> chunkModelBits;  // modelBits per chunk
  std::vector<std::vector<double>> tokenModelBits;  // modelBits per position of each chunk (0 for context and uncoded positions): surprisal scores for pruning
};

// What one step needs from the caller for every active lane: the token to
// code (encoder) or a place to put the decoded token (decoder).
class LaneSchedule {
 public:
  // chunkLengths counts every position a chunk occupies (its context
  // prefix included); a chunk of length 0 never occupies a lane.
  LaneSchedule(int32_t lanes, const std::vector<int32_t>& chunkLengths);

  struct Slot {
    int32_t lane;
    int32_t chunk;
    int32_t pos;  // position within the chunk of the token this step predicts
  };

  // Fills `active` with this step's lanes in batch order; false when done.
  // `started` receives the lanes that begin a new chunk this step.
  bool next(std::vector<Slot>& active, std::vector<int32_t>& started);

 private:
  int32_t lanes_;
  const std::vector<int32_t>& lengths_;
  int32_t nextChunk_ = 0;
  std::vector<int32_t> laneChunk_;
  std::vector<int32_t> lanePos_;
};

// One row of a llama_decode batch: an input token at a lane's KV cell. Rows
// that predict a coded token (`wanted`) name the chunk and position they predict.
struct Row {
  int32_t lane;
  int32_t cell;
  int32_t input;
  bool wanted;
  int32_t chunk;
  int32_t pos;
};

// Where a run's logits come from: the model (LlamaLogits) or rows a test supplies.
class LogitSource {
 public:
  virtual ~LogitSource() = default;
  // Before the first step.
  virtual void begin() = 0;
  // Evaluates one step's rows, in order. `cleared` lanes start over (their
  // cells are emptied first).
  virtual void evaluate(const std::vector<Row>& rows, const std::vector<int32_t>& cleared) = 0;
  // Logits of row i of the last step (only rows that were wanted).
  virtual const float* logits(int32_t row) = 0;
};

// Lockstep decoding in one llama context.
class LlamaLogits : public LogitSource {
 public:
  // `maxRows`: the most rows one step may hold (the context's batch size).
  LlamaLogits(llama_context* ctx, int32_t maxRows, const std::atomic<bool>& cancel);
  ~LlamaLogits() override;
  void begin() override;
  void evaluate(const std::vector<Row>& rows, const std::vector<int32_t>& cleared) override;
  const float* logits(int32_t row) override;

 private:
  llama_context* ctx_;
  int32_t maxRows_;
  struct Batch;
  Batch* batch_;
  const std::atomic<bool>& cancel_;
};

// Span mode: lane i codes chunk i (a long contiguous span of tokens) from
// start to end. A lane's KV window holds `window` cells: the start token,
// then the span's tokens. When it is full, the lane starts a fresh window
// whose first step refeeds the start token and the last `carry` tokens in one
// batch (cells 0..carry), the last of which predicts the next token; so every
// window after the first begins with context instead of from nothing. Both
// sides know the refed tokens, and the refeed happens at positions fixed by
// the window and carry, so the decoder replays the same batches.
struct SpanWindow {
  int32_t window = 0;  // KV cells per lane; 0 = chunk mode (the LaneSchedule)
  int32_t carry = 0;   // tokens refed at the start of each later window, 0..window-2

  bool enabled() const { return window > 0; }
  // Most rows one step can hold with `lanes` lanes.
  int32_t maxRows(int32_t lanes) const { return enabled() ? lanes * (carry + 1) : lanes; }
};

// Encoding only: give up when the coded bits pass a budget at a checkpoint
// (the input is cheaper another way). Checkpoints are step counts, ascending.
struct GiveUp {
  std::vector<int64_t> steps;
  std::vector<double> maxBits;
};

struct LaneRunConfig {
  int32_t lanes = 1;
  int32_t startToken = 0;
  int32_t nVocab = 0;
  int32_t mixer = 0;        // context-mixing configuration id; 0 = the bare model's tables
  // Per token id, the class bits of its text (mixer.h: tokenClass), for the
  // mixer's structure contexts; empty = class 0 for every token.
  std::vector<uint8_t> tokenClasses;
  bool skipCoding = false;  // evaluate only: the benchmark's "model time" baseline
  // Encoding with a mixer: also code the bare model's stream (what mixer 0
  // would write) from the same logits, so that the caller can keep the
  // smaller without a second pass over the model.
  bool bareToo = false;
  // Scoring only (pruning's first pass), when > 0: each chunk is evaluated
  // from a fresh context in batches of up to this many positions, logits for
  // every row; nothing is coded, no mixer runs, only the model-bits stats are
  // filled. Not a coding schedule: no archive depends on its logits.
  int32_t scoreRows = 0;
  // Per chunk, how many leading tokens are context: evaluated so that the
  // model sees them, but neither coded nor decoded (both sides know them).
  // Empty means none.
  std::vector<int32_t> prefixLengths;
  // Decoding only: tokens to decode per chunk, after its prefix. The chunk
  // vectors start with just their prefixes and grow as tokens are decoded,
  // so memory follows what the stream yields, not what a header declares.
  std::vector<int32_t> decodeLengths;
  SpanWindow span;
  GiveUp giveUp;
};

// Decoding left the encoder's path: it read further past the end of the
// stream than a whole stream ever needs, or the archive's settings made the
// model produce logits no encoder could have coded with. The stream is
// truncated or damaged, or the settings are not the encoder's. Thrown at
// once rather than after every declared token.
struct CorruptStream : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Runs the schedule (span mode when cfg.span is enabled: one chunk per lane,
// no context prefixes). For encoding, `chunks` holds the tokens and `out` gets
// the range-coded stream (and `bareOut` the bare model's, with cfg.bareToo).
// For decoding, `stream` is read and each chunk (holding its context prefix)
// gets cfg.decodeLengths[i] decoded tokens.
// Throws std::runtime_error on llama errors, bad tokens or cancellation
// (CorruptStream when decoding leaves the encoder's path).
void runLanes(LogitSource& source, const LaneRunConfig& cfg, std::vector<std::vector<int32_t>>& chunks,
              bool decoding, const std::vector<uint8_t>* stream, std::vector<uint8_t>* out,
              LaneRunStats& stats, std::atomic<int64_t>& progress, const std::atomic<bool>& cancel,
              std::vector<uint8_t>* bareOut = nullptr);

}  // namespace llmzip
