#include "lane_coder.h"

#include <algorithm>
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

LlamaLogits::LlamaLogits(llama_context* ctx, int32_t maxRows, const std::atomic<bool>& cancel)
    : ctx_(ctx), maxRows_(maxRows), batch_(new Batch(maxRows)), cancel_(cancel) {}

LlamaLogits::~LlamaLogits() { delete batch_; }

void LlamaLogits::begin() {
  // Every run starts from an empty cache so that the cell layout, and with
  // it the logits, cannot depend on what this context evaluated before.
  llama_memory_clear(llama_get_memory(ctx_), true);
}

void LlamaLogits::evaluate(const std::vector<Row>& rows, const std::vector<int32_t>& cleared) {
  llama_memory_t mem = llama_get_memory(ctx_);
  for (int32_t lane : cleared) llama_memory_seq_rm(mem, lane, -1, -1);
  if (static_cast<int32_t>(rows.size()) > maxRows_) throw std::runtime_error("a step holds more rows than the context's batch");
  llama_batch& batch = batch_->batch;
  batch.n_tokens = static_cast<int32_t>(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    batch.token[i] = rows[i].input;
    batch.pos[i] = rows[i].cell;
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = rows[i].lane;
    batch.logits[i] = rows[i].wanted;
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

namespace {

// The steps of a run as batches of rows. Chunk mode follows the LaneSchedule
// (chunks handed to idle lanes in order, context prefixes fed one token per
// step); span mode gives lane i chunk i and slides its window (SpanWindow).
class StepPlanner {
 public:
  StepPlanner(const LaneRunConfig& cfg, const std::vector<int32_t>& lengths, const std::vector<int32_t>& prefix)
      : cfg_(cfg), lengths_(lengths), prefix_(prefix), schedule_(cfg.lanes, lengths) {
    if (cfg.span.enabled()) {
      if (cfg.span.carry < 0 || cfg.span.carry > cfg.span.window - 2) throw std::runtime_error("the window must carry 0 to window-2 tokens");
      if (static_cast<int32_t>(lengths.size()) > cfg.lanes) throw std::runtime_error("span mode takes one chunk per lane");
      next_.assign(lengths.size(), 0);
      ctxStart_.assign(lengths.size(), 0);
    }
  }

  // This step's rows; false when every chunk is done. Tokens are read from
  // `chunks` only at positions already known.
  bool next(const std::vector<std::vector<int32_t>>& chunks, std::vector<Row>& rows, std::vector<int32_t>& cleared) {
    rows.clear();
    cleared.clear();
    if (!cfg_.span.enabled()) {
      if (!schedule_.next(active_, started_)) return false;
      cleared = started_;
      for (const auto& s : active_) {
        const int32_t input = s.pos == 0 ? cfg_.startToken : chunks[s.chunk][s.pos - 1];
        // Context positions need no prediction: the next token is known.
        rows.push_back({s.lane, s.pos, input, s.pos + 1 > prefix_[s.chunk], s.chunk, s.pos});
      }
      return true;
    }
    const int32_t window = cfg_.span.window, carry = cfg_.span.carry;
    for (int32_t lane = 0; lane < static_cast<int32_t>(lengths_.size()); ++lane) {
      const int32_t p = next_[lane];
      if (p >= lengths_[lane]) continue;
      const std::vector<int32_t>& span = chunks[lane];
      if (p == 0) cleared.push_back(lane);
      if (p - ctxStart_[lane] == window) {
        // The window is full: a fresh one with the last `carry` tokens refed.
        cleared.push_back(lane);
        ctxStart_[lane] = p - carry;
        rows.push_back({lane, 0, cfg_.startToken, false, lane, -1});
        for (int32_t k = 1; k <= carry; ++k) rows.push_back({lane, k, span[ctxStart_[lane] + k - 1], false, lane, -1});
        rows.back().wanted = true;
        rows.back().pos = p;
      } else {
        const int32_t cell = p - ctxStart_[lane];
        rows.push_back({lane, cell, cell == 0 ? cfg_.startToken : span[p - 1], true, lane, p});
      }
      next_[lane] = p + 1;
    }
    return !rows.empty();
  }

 private:
  const LaneRunConfig& cfg_;
  const std::vector<int32_t>& lengths_;
  const std::vector<int32_t>& prefix_;
  LaneSchedule schedule_;
  std::vector<LaneSchedule::Slot> active_;
  std::vector<int32_t> started_;
  std::vector<int32_t> next_;      // span mode: per lane, the next position to predict
  std::vector<int32_t> ctxStart_;  // span mode: per lane, the span position whose token sits in cell 1
};

}  // namespace

// Teacher-forced scoring needs no lockstep: a chunk's positions are all
// known, and llama.cpp evaluates hundreds of rows in one batch far faster per
// token than the one row per lane per step that coding must replay. Each
// chunk runs on lane 0 from an empty sequence, as chunk mode reads it.
static void scoreChunks(LogitSource& source, const LaneRunConfig& cfg, const std::vector<std::vector<int32_t>>& chunks,
                 LaneRunStats& stats, std::atomic<int64_t>& progress, const std::atomic<bool>& cancel) {
  const size_t nChunks = chunks.size();
  stats.chunkBits.assign(nChunks, 0.0);
  stats.chunkModelBits.assign(nChunks, 0.0);
  stats.tokenModelBits.assign(nChunks, {});
  source.begin();
  FreqTable table;
  std::vector<Row> rows;
  const std::vector<int32_t> fresh{0};
  for (size_t k = 0; k < nChunks; ++k) {
    const auto& chunk = chunks[k];
    const int32_t n = static_cast<int32_t>(chunk.size());
    auto& perToken = stats.tokenModelBits[k];
    perToken.assign(static_cast<size_t>(n), 0.0);
    for (int32_t from = 0; from < n; from += cfg.scoreRows) {
      if (cancel.load(std::memory_order_relaxed)) throw std::runtime_error("cancelled");
      const int32_t m = std::min(cfg.scoreRows, n - from);
      rows.clear();
      for (int32_t pos = from; pos < from + m; ++pos) {
        const int32_t input = pos == 0 ? cfg.startToken : chunk[pos - 1];
        if (chunk[pos] < 0 || chunk[pos] >= cfg.nVocab) throw std::runtime_error("token id out of the vocabulary");
        rows.push_back(Row{0, pos, input, true, static_cast<int32_t>(k), pos});
      }
      const auto t0 = Clock::now();
      source.evaluate(rows, from == 0 ? fresh : std::vector<int32_t>{});
      stats.decodeSeconds += secondsSince(t0);
      const auto t1 = Clock::now();
      for (int32_t i = 0; i < m; ++i) {
        const float* logits = source.logits(i);
        if (!table.prepare(logits, cfg.nVocab)) throw std::runtime_error("the model produced NaN or infinite logits");
        const double bits = table.modelBits(logits, chunk[from + i]);
        perToken[from + i] = bits;
        stats.chunkModelBits[k] += bits;
        stats.modelBits += bits;
      }
      stats.codingSeconds += secondsSince(t1);
      stats.tokens += m;
      stats.steps += 1;
      progress.fetch_add(m, std::memory_order_relaxed);
    }
  }
}

void runLanes(LogitSource& source, const LaneRunConfig& cfg, std::vector<std::vector<int32_t>>& chunks,
              bool decoding, const std::vector<uint8_t>* stream, std::vector<uint8_t>* out,
              LaneRunStats& stats, std::atomic<int64_t>& progress, const std::atomic<bool>& cancel,
              std::vector<uint8_t>* bareOut) {
  if (cfg.scoreRows > 0) {
    if (decoding || cfg.span.enabled() || !cfg.prefixLengths.empty() || cfg.mixer != 0) throw std::runtime_error("scoring takes no decoding, span mode, context prefixes or mixer");
    scoreChunks(source, cfg, chunks, stats, progress, cancel);
    return;
  }
  const size_t nChunks = chunks.size();
  std::vector<int32_t> prefix(nChunks, 0);
  if (!cfg.prefixLengths.empty()) {
    if (cfg.prefixLengths.size() != nChunks) throw std::runtime_error("one context length per chunk is needed");
    if (cfg.span.enabled()) throw std::runtime_error("span mode takes no context prefixes");
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
    mixer = std::make_unique<ContextMixer>(*mc, cfg.nVocab, cfg.lanes, chunks, totalTokens, cfg.tokenClasses);
  }

  stats.chunkBits.assign(nChunks, 0.0);
  stats.chunkModelBits.assign(nChunks, 0.0);
  stats.tokenModelBits.assign(nChunks, {});
  for (size_t i = 0; i < nChunks; ++i) stats.tokenModelBits[i].assign(static_cast<size_t>(lengths[i]), 0.0);
  StepPlanner planner(cfg, lengths, prefix);
  source.begin();

  FreqTable table;
  RangeEncoder encoder;
  // The bare model's table is the first half of the mixer's (prepare), so its
  // stream costs one more fill per token; mixer 0's decoder reads it as its own.
  if (cfg.bareToo && (decoding || !mixer || !bareOut)) throw std::runtime_error("the bare stream is coded only beside a mixed one, when encoding");
  std::unique_ptr<RangeEncoder> bare = cfg.bareToo ? std::make_unique<RangeEncoder>() : nullptr;
  RangeDecoder decoder(decoding && stream ? stream->data() : nullptr, decoding && stream ? stream->size() : 0);

  size_t nextGiveUp = 0;
  std::vector<Row> rows;
  std::vector<int32_t> cleared;
  while (planner.next(chunks, rows, cleared)) {
    if (cancel.load(std::memory_order_relaxed)) throw std::runtime_error("cancelled");
    const auto t0 = Clock::now();
    source.evaluate(rows, cleared);
    stats.decodeSeconds += secondsSince(t0);

    const auto t1 = Clock::now();
    int64_t coded = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      if (r.pos < 0) continue;  // a refed token: already coded and learnt from
      ++coded;
      if (cfg.skipCoding) continue;
      if (!r.wanted) {
        if (mixer) mixer->update(r.lane, r.chunk, r.pos, chunks[r.chunk][r.pos]);
        continue;
      }
      const float* logits = source.logits(static_cast<int32_t>(i));
      if (!table.prepare(logits, cfg.nVocab)) {
        if (decoding) throw CorruptStream("the model produces NaN or infinite logits with the archive's settings");
        throw std::runtime_error("the model produced NaN or infinite logits");
      }
      // The encoder's token, read once: the bare stream codes it before the mixer's table is built.
      const int32_t known = decoding ? -1 : chunks[r.chunk][r.pos];
      if (!decoding && (known < 0 || known >= cfg.nVocab)) throw std::runtime_error("token id out of the vocabulary");
      if (bare) {
        table.fill();
        bare->encode(table.cumulative(known), table.freq[known]);
      }
      if (mixer) mixer->predict(r.lane, r.chunk, r.pos, table);
      else table.fill();
      int32_t tok = known;
      uint64_t cum;
      if (decoding) {
        tok = table.find(decoder.target(), &cum);
        decoder.consume(cum, table.freq[tok]);
        if (decoder.exhausted()) throw CorruptStream("the coded stream ends before its last token");
        chunks[r.chunk].push_back(tok);  // a lane decodes its chunk's positions in order
      } else {
        cum = table.cumulative(tok);
        encoder.encode(cum, table.freq[tok]);
      }
      if (mixer) mixer->update(r.lane, r.chunk, r.pos, tok);
      const double modelBits = table.modelBits(logits, tok);
      stats.modelBits += modelBits;
      stats.chunkModelBits[r.chunk] += modelBits;
      auto& perToken = stats.tokenModelBits[r.chunk];
      if (r.pos >= 0 && static_cast<size_t>(r.pos) < perToken.size()) perToken[r.pos] = modelBits;
      const double bits = static_cast<double>(kTotalBits) - std::log2(static_cast<double>(table.freq[tok]));
      stats.tableBits += bits;
      stats.chunkBits[r.chunk] += bits;
    }
    stats.codingSeconds += secondsSince(t1);
    stats.tokens += coded;
    stats.steps += 1;
    progress.fetch_add(coded, std::memory_order_relaxed);
    if (!decoding && nextGiveUp < cfg.giveUp.steps.size() && stats.steps >= cfg.giveUp.steps[nextGiveUp]) {
      if (stats.tableBits > cfg.giveUp.maxBits[nextGiveUp]) {
        stats.gaveUpAtStep = stats.steps;
        return;
      }
      ++nextGiveUp;
    }
  }
  if (!decoding && !cfg.skipCoding && out) *out = encoder.finish();
  if (bare) *bareOut = bare->finish();
}

}  // namespace llmzip
