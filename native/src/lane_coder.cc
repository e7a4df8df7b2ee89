#include "lane_coder.h"

#include <chrono>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "freq_table.h"
#include "llama.h"
#include "mixer.h"
#include "range_coder.h"

namespace llmzip {

LaneSchedule::LaneSchedule(int32_t lanes, const std::vector<int32_t>& chunkLengths)
    : lanes_(lanes), lengths_(chunkLengths), laneChunk_(lanes, -1), lanePos_(lanes, 0) {}

bool LaneSchedule::next(std::vector<Slot>& active, std::vector<int32_t>& started) {
  active.clear();
  started.clear();
  const int32_t nChunks = static_cast<int32_t>(lengths_.size());
  for (int32_t lane = 0; lane < lanes_; ++lane) {
    int32_t& c = laneChunk_[lane];
    if (c >= 0 && lanePos_[lane] >= lengths_[c]) c = -1;
    while (c < 0 && nextChunk_ < nChunks) {
      const int32_t candidate = nextChunk_++;
      if (lengths_[candidate] == 0) continue;  // nothing to code; never occupies a lane
      c = candidate;
      lanePos_[lane] = 0;
      started.push_back(lane);
    }
    if (c >= 0) active.push_back({lane, c, lanePos_[lane]++});
  }
  return !active.empty();
}

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

struct LlamaLogits::Batch {
  llama_batch batch;
  explicit Batch(int32_t n) : batch(llama_batch_init(n, 0, 1)) {}
  ~Batch() { llama_batch_free(batch); }
};

LlamaLogits::LlamaLogits(llama_context* ctx, int32_t lanes, const std::atomic<bool>& cancel)
    : ctx_(ctx), batch_(new Batch(lanes)), cancel_(cancel) {}

LlamaLogits::~LlamaLogits() { delete batch_; }

void LlamaLogits::begin() {
  // Every run starts from an empty cache so that the cell layout, and with
  // it the logits, cannot depend on what this context evaluated before.
  llama_memory_clear(llama_get_memory(ctx_), true);
}

void LlamaLogits::evaluate(const std::vector<LaneSchedule::Slot>& active, const std::vector<int32_t>& inputs,
                           const std::vector<uint8_t>& wanted, const std::vector<int32_t>& started) {
  llama_memory_t mem = llama_get_memory(ctx_);
  for (int32_t lane : started) llama_memory_seq_rm(mem, lane, -1, -1);
  llama_batch& batch = batch_->batch;
  batch.n_tokens = static_cast<int32_t>(active.size());
  for (size_t i = 0; i < active.size(); ++i) {
    batch.token[i] = inputs[i];
    batch.pos[i] = active[i].pos;
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = active[i].lane;
    batch.logits[i] = wanted[i];
  }
  const int32_t rc = llama_decode(ctx_, batch);
  if (rc != 0) {
    if (cancel_.load()) throw std::runtime_error("cancelled");
    throw std::runtime_error("llama_decode failed with code " + std::to_string(rc) +
                             (rc == 1 ? " (no KV cache slot: context too small for the lanes)" : ""));
  }
}

const float* LlamaLogits::logits(int32_t row) {
  const float* l = llama_get_logits_ith(ctx_, row);
  if (!l) throw std::runtime_error("no logits for batch row " + std::to_string(row));
  return l;
}

void runLanes(LogitSource& source, const LaneRunConfig& cfg, std::vector<std::vector<int32_t>>& chunks,
              bool decoding, const std::vector<uint8_t>* stream, std::vector<uint8_t>* out,
              LaneRunStats& stats, std::atomic<int64_t>& progress, const std::atomic<bool>& cancel) {
  const size_t nChunks = chunks.size();
  std::vector<int32_t> prefix(nChunks, 0);
  if (!cfg.prefixLengths.empty()) {
    if (cfg.prefixLengths.size() != nChunks) throw std::runtime_error("one context length per chunk is needed");
    prefix = cfg.prefixLengths;
  }
  std::vector<int32_t> lengths(nChunks);
  int64_t totalTokens = 0;
  if (decoding && cfg.decodeLengths.size() != nChunks) throw std::runtime_error("one decode length per chunk is needed");
  for (size_t i = 0; i < nChunks; ++i) {
    const int32_t n = static_cast<int32_t>(chunks[i].size()) + (decoding ? cfg.decodeLengths[i] : 0);
    if (prefix[i] < 0 || prefix[i] > n) throw std::runtime_error("context prefix longer than its chunk");
    // A chunk with nothing to code is skipped whole, context included.
    lengths[i] = prefix[i] == n ? 0 : n;
    totalTokens += lengths[i];
    // Context tokens feed the model (and the mixer) on both sides: check them here.
    for (int32_t k = 0; k < (lengths[i] ? prefix[i] : 0); ++k)
      if (chunks[i][k] < 0 || chunks[i][k] >= cfg.nVocab) throw std::runtime_error("context token id out of the vocabulary");
  }

  std::unique_ptr<ContextMixer> mixer;
  if (cfg.mixer != 0 && !cfg.skipCoding) {
    const MixerConfig* mc = mixerConfig(cfg.mixer);
    if (!mc) throw std::runtime_error("unknown context-mixing configuration " + std::to_string(cfg.mixer));
    mixer = std::make_unique<ContextMixer>(*mc, cfg.nVocab, cfg.lanes, chunks, totalTokens);
  }

  stats.chunkBits.assign(nChunks, 0.0);
  stats.chunkModelBits.assign(nChunks, 0.0);
  LaneSchedule schedule(cfg.lanes, lengths);
  source.begin();

  FreqTable table;
  RangeEncoder encoder;
  RangeDecoder decoder(decoding && stream ? stream->data() : nullptr, decoding && stream ? stream->size() : 0);

  std::vector<LaneSchedule::Slot> active;
  std::vector<int32_t> started;
  std::vector<int32_t> inputs;
  std::vector<uint8_t> wanted;
  while (schedule.next(active, started)) {
    if (cancel.load(std::memory_order_relaxed)) throw std::runtime_error("cancelled");
    inputs.resize(active.size());
    wanted.resize(active.size());
    for (size_t i = 0; i < active.size(); ++i) {
      const auto& s = active[i];
      inputs[i] = s.pos == 0 ? cfg.startToken : chunks[s.chunk][s.pos - 1];
      // Context positions need no prediction: the next token is known.
      wanted[i] = s.pos + 1 > prefix[s.chunk] ? 1 : 0;
    }

    const auto t0 = Clock::now();
    source.evaluate(active, inputs, wanted, started);
    stats.decodeSeconds += secondsSince(t0);

    const auto t1 = Clock::now();
    if (!cfg.skipCoding) {
      for (size_t i = 0; i < active.size(); ++i) {
        const auto& s = active[i];
        if (s.pos < prefix[s.chunk]) {
          if (mixer) mixer->update(s.lane, s.chunk, s.pos, chunks[s.chunk][s.pos]);
          continue;
        }
        const float* logits = source.logits(static_cast<int32_t>(i));
        if (!table.prepare(logits, cfg.nVocab)) {
          if (decoding) throw CorruptStream("the model produces NaN or infinite logits with the archive's settings");
          throw std::runtime_error("the model produced NaN or infinite logits");
        }
        if (mixer) mixer->predict(s.lane, s.chunk, s.pos, table);
        else table.fill();
        int32_t tok;
        uint64_t cum;
        if (decoding) {
          tok = table.find(decoder.target(), &cum);
          decoder.consume(cum, table.freq[tok]);
          if (decoder.exhausted()) throw CorruptStream("the coded stream ends before its last token");
          chunks[s.chunk].push_back(tok);  // a lane decodes its chunk's positions in order
        } else {
          tok = chunks[s.chunk][s.pos];
          if (tok < 0 || tok >= cfg.nVocab) throw std::runtime_error("token id out of the vocabulary");
          cum = table.cumulative(tok);
          encoder.encode(cum, table.freq[tok]);
        }
        if (mixer) mixer->update(s.lane, s.chunk, s.pos, tok);
        const double modelBits = table.modelBits(logits, tok);
        stats.modelBits += modelBits;
        stats.chunkModelBits[s.chunk] += modelBits;
        const double bits = static_cast<double>(kTotalBits) - std::log2(static_cast<double>(table.freq[tok]));
        stats.tableBits += bits;
        stats.chunkBits[s.chunk] += bits;
      }
    }
    stats.codingSeconds += secondsSince(t1);
    stats.tokens += static_cast<int64_t>(active.size());
    stats.steps += 1;
    progress.fetch_add(static_cast<int64_t>(active.size()), std::memory_order_relaxed);
  }
  if (!decoding && !cfg.skipCoding && out) *out = encoder.finish();
}

}  // namespace llmzip
