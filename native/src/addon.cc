// Node-API face of the engine: model loading, tokenizer, and lane runs that
// execute on a worker thread so the event loop stays free for progress and
// signals. The JS side (src/engine/native.ts) owns all policy; this file
// only marshals.
#include <napi.h>

#include <link.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "freq_table.h"
#include "ggml-backend.h"
#include "lane_coder.h"
#include "llama.h"
#include "mixer.h"
#include "range_coder.h"

namespace {

std::mutex gLogMutex;
std::string gLastError;
bool gLogToStderr = false;

void logCallback(ggml_log_level level, const char* text, void*) {
  if (gLogToStderr) fputs(text, stderr);
  if (level == GGML_LOG_LEVEL_ERROR) {
    std::lock_guard<std::mutex> lock(gLogMutex);
    gLastError = text;
    while (!gLastError.empty() && (gLastError.back() == '\n' || gLastError.back() == ' ')) gLastError.pop_back();
  }
}

std::string takeLastError() {
  std::lock_guard<std::mutex> lock(gLogMutex);
  std::string e = gLastError;
  gLastError.clear();
  return e;
}

int collectCpuVariant(struct dl_phdr_info* info, size_t, void* data) {
  const char* name = info->dlpi_name;
  const char* hit = name ? strstr(name, "libggml-cpu-") : nullptr;
  if (hit) {
    std::string v = hit + strlen("libggml-cpu-");
    const size_t dot = v.find(".so");
    if (dot != std::string::npos) v.resize(dot);
    *static_cast<std::string*>(data) = v;
  }
  return 0;
}

std::string loadedCpuVariant() {
  std::string variant;
  dl_iterate_phdr(collectCpuVariant, &variant);
  return variant;
}

bool fileExists(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  if (f) fclose(f);
  return f != nullptr;
}

// Loads backends from a folder once per process; later calls with the same
// folder and kernels are no-ops. With a CPU variant named, exactly that set
// of ggml CPU kernels is loaded (llama.cpp's logits differ between variants,
// so a decoder must use the encoder's), plus any GPU backend in the folder;
// otherwise llama.cpp picks the best variant for this CPU.
Napi::Value LoadBackends(const Napi::CallbackInfo& info) {
  static std::string loadedFrom;
  static std::string loadedVariant;
  Napi::Env env = info.Env();
  const std::string dir = info[0].As<Napi::String>();
  gLogToStderr = info.Length() > 1 && info[1].ToBoolean();
  const std::string want = info.Length() > 2 && info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "";
  if (want.find_first_of("/\\.") != std::string::npos) throw Napi::Error::New(env, "bad CPU kernel name '" + want + "'");
  if (loadedFrom.empty()) {
    llama_log_set(logCallback, nullptr);
    ggml_log_set(logCallback, nullptr);
    if (want.empty()) {
      ggml_backend_load_all_from_path(dir.c_str());
    } else {
      const std::string cpuLib = dir + "/libggml-cpu-" + want + ".so";
      if (!fileExists(cpuLib)) throw Napi::Error::New(env, "llama.cpp has no CPU kernels named '" + want + "'");
      if (!ggml_backend_load(cpuLib.c_str())) {
        throw Napi::Error::New(env, "this CPU cannot run llama.cpp's " + want + " kernels (they need instructions it lacks)");
      }
      for (const char* gpu : {"libggml-cuda.so", "libggml-vulkan.so"}) {
        const std::string lib = dir + "/" + gpu;
        if (fileExists(lib)) ggml_backend_load(lib.c_str());
      }
    }
    llama_backend_init();
    loadedFrom = dir;
    loadedVariant = want.empty() ? loadedCpuVariant() : want;
  } else if (loadedFrom != dir) {
    throw Napi::Error::New(env, "backends already loaded from " + loadedFrom);
  } else if (!want.empty() && want != loadedVariant) {
    throw Napi::Error::New(env, "this process already runs llama.cpp's " + loadedVariant + " CPU kernels and cannot switch to " + want);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("cpuVariant", loadedCpuVariant());
  Napi::Array devices = Napi::Array::New(env);
  for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
    ggml_backend_dev_t dev = ggml_backend_dev_get(i);
    Napi::Object d = Napi::Object::New(env);
    d.Set("name", ggml_backend_dev_name(dev));
    d.Set("description", ggml_backend_dev_description(dev));
    d.Set("type", static_cast<double>(ggml_backend_dev_type(dev)));
    devices.Set(static_cast<uint32_t>(i), d);
  }
  result.Set("devices", devices);
  return result;
}

ggml_type kvTypeFromName(const std::string& name) {
  if (name == "f16") return GGML_TYPE_F16;
  if (name == "f32") return GGML_TYPE_F32;
  if (name == "bf16") return GGML_TYPE_BF16;
  if (name == "q8_0") return GGML_TYPE_Q8_0;
  throw std::runtime_error("unknown KV cache type '" + name + "' (use f16, f32, bf16 or q8_0)");
}

std::string metaString(const llama_model* model, const char* key) {
  char buf[512];
  const int32_t n = llama_model_meta_val_str(model, key, buf, sizeof buf);
  return n >= 0 ? std::string(buf) : std::string();
}

class Engine : public Napi::ObjectWrap<Engine> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Engine",
                       {
                           InstanceMethod("info", &Engine::Info),
                           InstanceMethod("tokenize", &Engine::Tokenize),
                           InstanceMethod("detokenize", &Engine::Detokenize),
                           InstanceMethod("configure", &Engine::Configure),
                           InstanceMethod("encode", &Engine::Encode),
                           InstanceMethod("decode", &Engine::Decode),
                           InstanceMethod("progress", &Engine::Progress),
                           InstanceMethod("cancel", &Engine::Cancel),
                           InstanceMethod("close", &Engine::Close),
                       });
  }

  explicit Engine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Engine>(info) {
    Napi::Env env = info.Env();
    Napi::Object opts = info[0].As<Napi::Object>();
    const std::string path = opts.Get("modelPath").As<Napi::String>();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = opts.Has("gpuLayers") ? opts.Get("gpuLayers").As<Napi::Number>().Int32Value() : 0;
    model_ = llama_model_load_from_file(path.c_str(), mp);
    if (!model_) {
      const std::string why = takeLastError();
      throw Napi::Error::New(env, "cannot load model " + path + (why.empty() ? "" : ": " + why));
    }
    vocab_ = llama_model_get_vocab(model_);
  }

  ~Engine() override { release(); }

 private:
  friend class LaneWorker;

  void release() {
    if (ctx_) llama_free(ctx_);
    ctx_ = nullptr;
    for (auto* a : adapters_) llama_adapter_lora_free(a);
    adapters_.clear();
    if (model_) llama_model_free(model_);
    model_ = nullptr;
  }

  void requireModel(Napi::Env env) {
    if (!model_) throw Napi::Error::New(env, "engine is closed");
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    requireModel(env);
    Napi::Object o = Napi::Object::New(env);
    char desc[256];
    llama_model_desc(model_, desc, sizeof desc);
    o.Set("description", desc);
    o.Set("name", metaString(model_, "general.name"));
    o.Set("architecture", metaString(model_, "general.architecture"));
    o.Set("vocabSize", llama_vocab_n_tokens(vocab_));
    o.Set("contextLength", llama_model_n_ctx_train(model_));
    o.Set("parameters", static_cast<double>(llama_model_n_params(model_)));
    o.Set("bos", llama_vocab_bos(vocab_));
    o.Set("eos", llama_vocab_eos(vocab_));
    o.Set("hasEncoder", llama_model_has_encoder(model_));
    o.Set("recurrent", llama_model_is_recurrent(model_));
    return o;
  }

  Napi::Value Tokenize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    requireModel(env);
    Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
    if (bytes.ByteLength() > 0x7fffffff / 2) throw Napi::RangeError::New(env, "text too long to tokenize at once");
    const char* text = reinterpret_cast<const char*>(bytes.Data());
    const int32_t len = static_cast<int32_t>(bytes.ByteLength());
    std::vector<llama_token> toks(static_cast<size_t>(len) + 8);
    int32_t n = llama_tokenize(vocab_, text, len, toks.data(), static_cast<int32_t>(toks.size()), false, false);
    if (n < 0) {
      toks.resize(static_cast<size_t>(-n));
      n = llama_tokenize(vocab_, text, len, toks.data(), static_cast<int32_t>(toks.size()), false, false);
    }
    if (n < 0) throw Napi::Error::New(env, "tokenizer failed");
    Napi::Int32Array out = Napi::Int32Array::New(env, static_cast<size_t>(n));
    if (n > 0) std::memcpy(out.Data(), toks.data(), static_cast<size_t>(n) * sizeof(int32_t));
    return out;
  }

  Napi::Value Detokenize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    requireModel(env);
    Napi::Int32Array toks = info[0].As<Napi::Int32Array>();
    const int32_t n = static_cast<int32_t>(toks.ElementLength());
    const int32_t nv = llama_vocab_n_tokens(vocab_);
    for (int32_t i = 0; i < n; ++i)
      if (toks[i] < 0 || toks[i] >= nv) throw Napi::RangeError::New(env, "token id out of the vocabulary");
    std::vector<char> buf(static_cast<size_t>(n) * 8 + 16);
    int32_t m = llama_detokenize(vocab_, toks.Data(), n, buf.data(), static_cast<int32_t>(buf.size()), false, false);
    if (m < 0) {
      buf.resize(static_cast<size_t>(-m));
      m = llama_detokenize(vocab_, toks.Data(), n, buf.data(), static_cast<int32_t>(buf.size()), false, false);
    }
    if (m < 0) throw Napi::Error::New(env, "detokenizer failed");
    return Napi::Buffer<char>::Copy(env, buf.data(), static_cast<size_t>(m));
  }

  // Creates (or recreates) the lane context. Everything here can change the
  // logits, so the JS side records it in the archive.
  Napi::Value Configure(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    requireModel(env);
    if (busy_.load()) throw Napi::Error::New(env, "engine is busy");
    Napi::Object o = info[0].As<Napi::Object>();
    const int32_t lanes = o.Get("lanes").As<Napi::Number>().Int32Value();
    const int32_t ctxPerLane = o.Get("ctx").As<Napi::Number>().Int32Value();
    const int32_t threads = o.Get("threads").As<Napi::Number>().Int32Value();
    const bool flash = o.Get("flashAttention").ToBoolean();
    const std::string kvType = o.Get("kvType").As<Napi::String>();
    // Span mode refeeds up to carry + 1 tokens per lane in one step.
    const int32_t batchRows = o.Has("batchRows") ? o.Get("batchRows").As<Napi::Number>().Int32Value() : lanes;
    if (lanes < 1 || ctxPerLane < 2 || threads < 1) throw Napi::RangeError::New(env, "lanes, ctx and threads must be positive");
    if (batchRows < lanes || batchRows > lanes * ctxPerLane) throw Napi::RangeError::New(env, "batchRows must be from lanes to lanes x ctx");

    if (ctx_) llama_free(ctx_);
    ctx_ = nullptr;
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = static_cast<uint32_t>(lanes) * static_cast<uint32_t>(ctxPerLane);
    cp.n_seq_max = static_cast<uint32_t>(lanes);
    cp.n_batch = static_cast<uint32_t>(batchRows);
    cp.n_ubatch = static_cast<uint32_t>(batchRows);
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.flash_attn_type = flash ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    try {
      cp.type_k = kvTypeFromName(kvType);
      cp.type_v = kvTypeFromName(kvType);
    } catch (const std::exception& e) {
      throw Napi::Error::New(env, e.what());
    }
    cp.kv_unified = false;
    cp.swa_full = true;
    cp.no_perf = true;
    cp.embeddings = false;
    cp.abort_callback = [](void* data) -> bool { return static_cast<Engine*>(data)->cancel_.load(); };
    cp.abort_callback_data = this;
    ctx_ = llama_init_from_model(model_, cp);
    if (!ctx_) {
      const std::string why = takeLastError();
      throw Napi::Error::New(env, "cannot create the model context" + (why.empty() ? "" : ": " + why));
    }

    // Adapters are per context: load each file once, then attach the set.
    for (auto* a : adapters_) llama_adapter_lora_free(a);
    adapters_.clear();
    std::vector<float> scales;
    if (o.Has("adapters")) {
      Napi::Array list = o.Get("adapters").As<Napi::Array>();
      for (uint32_t i = 0; i < list.Length(); ++i) {
        Napi::Object a = list.Get(i).As<Napi::Object>();
        const std::string path = a.Get("path").As<Napi::String>();
        llama_adapter_lora* lora = llama_adapter_lora_init(model_, path.c_str());
        if (!lora) {
          const std::string why = takeLastError();
          throw Napi::Error::New(env, "cannot load adapter " + path + (why.empty() ? "" : ": " + why));
        }
        adapters_.push_back(lora);
        scales.push_back(static_cast<float>(a.Get("scale").As<Napi::Number>().DoubleValue()));
      }
    }
    if (llama_set_adapters_lora(ctx_, adapters_.data(), adapters_.size(), scales.data()) != 0) {
      throw Napi::Error::New(env, "cannot attach the adapters to the context: " + takeLastError());
    }
    lanes_ = lanes;
    batchRows_ = batchRows;
    return env.Undefined();
  }

  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value Decode(const Napi::CallbackInfo& info);

  // What the configured context can run: the start token, and in span mode one chunk per lane and batches that fit.
  void checkRunShape(Napi::Env env, const llmzip::LaneRunConfig& cfg, size_t chunks) const {
    if (cfg.startToken < 0 || cfg.startToken >= cfg.nVocab) throw Napi::RangeError::New(env, "start token out of the vocabulary");
    if (!cfg.span.enabled()) return;
    if (chunks > static_cast<size_t>(lanes_)) throw Napi::RangeError::New(env, "span mode takes at most one span per lane");
    if (cfg.span.maxRows(lanes_) > batchRows_) throw Napi::RangeError::New(env, "the context was configured for smaller batches than this span window needs");
  }

  Napi::Value Progress(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(progress_.load()));
  }

  Napi::Value Cancel(const Napi::CallbackInfo& info) {
    cancel_.store(true);
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (busy_.load()) throw Napi::Error::New(info.Env(), "engine is busy");
    release();
    return info.Env().Undefined();
  }

  llama_model* model_ = nullptr;
  const llama_vocab* vocab_ = nullptr;
  llama_context* ctx_ = nullptr;
  std::vector<llama_adapter_lora*> adapters_;
  int32_t lanes_ = 0;
  int32_t batchRows_ = 0;
  std::atomic<bool> busy_{false};
  std::atomic<bool> cancel_{false};
  std::atomic<int64_t> progress_{0};
};

Napi::Object statsObject(Napi::Env env, const llmzip::LaneRunStats& st);

class LaneWorker : public Napi::AsyncWorker {
 public:
  LaneWorker(Napi::Env env, Engine* engine, Napi::Object self, bool decoding, llmzip::LaneRunConfig cfg,
             std::vector<std::vector<int32_t>> chunks, std::vector<uint8_t> stream)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        engine_(engine),
        decoding_(decoding),
        cfg_(cfg),
        chunks_(std::move(chunks)),
        stream_(std::move(stream)) {
    self_ = Napi::Persistent(self);
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      llmzip::LlamaLogits source(engine_->ctx_, cfg_.scoreRows > 0 ? cfg_.scoreRows : cfg_.span.maxRows(cfg_.lanes), engine_->cancel_);
      llmzip::runLanes(source, cfg_, chunks_, decoding_, &stream_, &out_, stats_, engine_->progress_, engine_->cancel_, &bareOut_);
    } catch (const llmzip::CorruptStream& e) {
      corrupt_ = true;
      SetError(e.what());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    engine_->busy_.store(false);
    Napi::Object r = Napi::Object::New(env);
    if (decoding_) {
      Napi::Array list = Napi::Array::New(env, chunks_.size());
      for (size_t i = 0; i < chunks_.size(); ++i) {
        const size_t skip = cfg_.prefixLengths.empty() ? 0 : static_cast<size_t>(cfg_.prefixLengths[i]);
        const size_t n = chunks_[i].size() - skip;
        Napi::Int32Array a = Napi::Int32Array::New(env, n);
        if (n > 0) std::memcpy(a.Data(), chunks_[i].data() + skip, n * sizeof(int32_t));
        list.Set(static_cast<uint32_t>(i), a);
      }
      r.Set("chunks", list);
    } else {
      r.Set("stream", Napi::Buffer<uint8_t>::Copy(env, out_.data(), out_.size()));
      if (cfg_.bareToo) r.Set("bareStream", Napi::Buffer<uint8_t>::Copy(env, bareOut_.data(), bareOut_.size()));
    }
    r.Set("stats", statsObject(env, stats_));
    deferred_.Resolve(r);
  }

  void OnError(const Napi::Error& e) override {
    engine_->busy_.store(false);
    Napi::Error err = Napi::Error::New(Env(), e.Message());
    if (engine_->cancel_.load()) err.Set("cancelled", Napi::Boolean::New(Env(), true));
    if (corrupt_) err.Set("corruptStream", Napi::Boolean::New(Env(), true));
    deferred_.Reject(err.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference self_;
  Engine* engine_;
  bool decoding_;
  llmzip::LaneRunConfig cfg_;
  std::vector<std::vector<int32_t>> chunks_;
  std::vector<uint8_t> stream_;
  std::vector<uint8_t> out_;
  std::vector<uint8_t> bareOut_;
  llmzip::LaneRunStats stats_;
  bool corrupt_ = false;
};

// A boolean option: absent reads as false.
bool flagOption(const Napi::Object& opts, const char* name) { return opts.Has(name) && opts.Get(name).ToBoolean(); }

// opts.mixer: 0 (or absent) = off, else a known configuration id.
int32_t mixerId(const Napi::Object& opts) {
  if (!opts.Has("mixer") || opts.Get("mixer").IsUndefined()) return 0;
  const int32_t id = opts.Get("mixer").As<Napi::Number>().Int32Value();
  if (id != 0 && !llmzip::mixerConfig(id)) throw Napi::RangeError::New(opts.Env(), "unknown context-mixing configuration " + std::to_string(id));
  return id;
}

// opts.span: { window, carry } selects span mode (see SpanWindow).
llmzip::SpanWindow spanWindow(const Napi::Object& opts) {
  llmzip::SpanWindow span;
  if (!opts.Has("span") || !opts.Get("span").IsObject()) return span;
  Napi::Object w = opts.Get("span").As<Napi::Object>();
  span.window = w.Get("window").As<Napi::Number>().Int32Value();
  span.carry = w.Get("carry").As<Napi::Number>().Int32Value();
  if (span.window < 2 || span.carry < 0 || span.carry > span.window - 2)
    throw Napi::RangeError::New(opts.Env(), "span mode needs a window of at least 2 cells carrying 0 to window-2 tokens");
  return span;
}

// The class bits of every token's text, for the mixer's structure contexts.
// The text is the piece as the vocabulary spells it (byte tokens as their
// byte, a leading word marker as a space), without special tokens' names.
std::vector<uint8_t> tokenClasses(const llama_vocab* vocab, int32_t nVocab) {
  std::vector<uint8_t> out(static_cast<size_t>(nVocab), 0);
  char buf[256];
  for (int32_t t = 0; t < nVocab; ++t) {
    const int32_t n = llama_token_to_piece(vocab, t, buf, sizeof buf, 0, false);
    if (n > 0) out[static_cast<size_t>(t)] = llmzip::tokenClass(buf, n);
  }
  return out;
}

llmzip::LaneRunConfig runConfig(llama_model* model, int32_t lanes, const Napi::Object& opts) {
  llmzip::LaneRunConfig cfg;
  cfg.lanes = lanes;
  cfg.nVocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  cfg.startToken = opts.Get("startToken").As<Napi::Number>().Int32Value();
  cfg.skipCoding = flagOption(opts, "skipCoding");
  cfg.mixer = mixerId(opts);
  cfg.bareToo = flagOption(opts, "bareToo");
  cfg.span = spanWindow(opts);
  if (cfg.mixer != 0) cfg.tokenClasses = tokenClasses(llama_model_get_vocab(model), cfg.nVocab);
  return cfg;
}

// Copies a JS array of Int32Arrays (validated lengths) into token vectors.
std::vector<std::vector<int32_t>> tokenLists(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of Int32Array");
  Napi::Array list = v.As<Napi::Array>();
  std::vector<std::vector<int32_t>> out(list.Length());
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value item = list.Get(i);
    if (!item.IsTypedArray() || item.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      throw Napi::TypeError::New(env, std::string(what) + " must be an array of Int32Array");
    Napi::Int32Array a = item.As<Napi::Int32Array>();
    if (a.ElementLength() > 0x7fffffffu) throw Napi::RangeError::New(env, std::string(what) + ": a sequence is too long");
    out[i].assign(a.Data(), a.Data() + a.ElementLength());
  }
  return out;
}

// Logits given as rows, for model-free tests of the whole coding path (lane
// schedule, tables, mixer, range coder): one row per position of every chunk,
// chunks in order.
class RowLogits : public llmzip::LogitSource {
 public:
  RowLogits(const float* rows, int32_t vocab, const std::vector<int32_t>& lengths) : rows_(rows), vocab_(vocab) {
    size_t at = 0;
    for (int32_t n : lengths) {
      start_.push_back(at);
      at += static_cast<size_t>(n);
    }
  }
  void begin() override {}
  void evaluate(const std::vector<llmzip::Row>& rows, const std::vector<int32_t>&) override { active_ = rows; }
  const float* logits(int32_t row) override {
    const auto& r = active_[static_cast<size_t>(row)];
    return rows_ + (start_[static_cast<size_t>(r.chunk)] + static_cast<size_t>(r.pos)) * static_cast<size_t>(vocab_);
  }

 private:
  const float* rows_;
  int32_t vocab_;
  std::vector<size_t> start_;
  std::vector<llmzip::Row> active_;
};

// Options of the model-free coder: { mixer, lanes, chunkLengths } (one chunk on one lane by default).
struct RowRun {
  llmzip::LaneRunConfig cfg;
  std::vector<int32_t> lengths;
};

// opts.giveUp: [{ step, maxBits }, ...] in ascending steps (encoding only).
llmzip::GiveUp giveUpCheckpoints(Napi::Env env, const Napi::Object& opts) {
  llmzip::GiveUp out;
  if (!opts.Get("giveUp").IsArray()) return out;
  Napi::Array g = opts.Get("giveUp").As<Napi::Array>();
  for (uint32_t i = 0; i < g.Length(); ++i) {
    Napi::Object c = g.Get(i).As<Napi::Object>();
    const double step = c.Get("step").As<Napi::Number>().DoubleValue();
    if (!(step >= 1) || (!out.steps.empty() && step <= static_cast<double>(out.steps.back())))
      throw Napi::RangeError::New(env, "give-up checkpoints must be ascending step counts");
    out.steps.push_back(static_cast<int64_t>(step));
    out.maxBits.push_back(c.Get("maxBits").As<Napi::Number>().DoubleValue());
  }
  return out;
}

RowRun rowRun(Napi::Env env, const Napi::Value& optsValue, int32_t vocab, size_t nTokens) {
  RowRun r;
  r.cfg.nVocab = vocab;
  r.lengths.push_back(static_cast<int32_t>(nTokens));
  if (!optsValue.IsObject()) return r;
  Napi::Object opts = optsValue.As<Napi::Object>();
  r.cfg.mixer = mixerId(opts);
  r.cfg.bareToo = flagOption(opts, "bareToo");
  r.cfg.span = spanWindow(opts);
  if (opts.Has("tokenClasses") && opts.Get("tokenClasses").IsTypedArray()) {
    Napi::Uint8Array c = opts.Get("tokenClasses").As<Napi::Uint8Array>();
    if (c.ElementLength() != static_cast<size_t>(vocab)) throw Napi::RangeError::New(env, "tokenClasses must hold one byte per token id");
    r.cfg.tokenClasses.assign(c.Data(), c.Data() + c.ElementLength());
  }
  r.cfg.giveUp = giveUpCheckpoints(env, opts);
  if (opts.Has("lanes")) r.cfg.lanes = opts.Get("lanes").As<Napi::Number>().Int32Value();
  if (r.cfg.lanes < 1 || r.cfg.lanes > 1024) throw Napi::RangeError::New(env, "lanes must be 1 to 1024");
  if (opts.Get("chunkLengths").IsArray()) {
    Napi::Array a = opts.Get("chunkLengths").As<Napi::Array>();
    r.lengths.clear();
    size_t sum = 0;
    for (uint32_t i = 0; i < a.Length(); ++i) {
      const int32_t n = a.Get(i).As<Napi::Number>().Int32Value();
      if (n < 0) throw Napi::RangeError::New(env, "negative chunk length");
      r.lengths.push_back(n);
      sum += static_cast<size_t>(n);
    }
    if (sum != nTokens) throw Napi::RangeError::New(env, "chunk lengths must add up to the token count");
  }
  return r;
}

Napi::Object statsObject(Napi::Env env, const llmzip::LaneRunStats& st) {
  Napi::Object s = Napi::Object::New(env);
  s.Set("tokens", static_cast<double>(st.tokens));
  s.Set("steps", static_cast<double>(st.steps));
  s.Set("modelBits", st.modelBits);
  s.Set("tableBits", st.tableBits);
  s.Set("decodeSeconds", st.decodeSeconds);
  s.Set("codingSeconds", st.codingSeconds);
  if (st.gaveUpAtStep >= 0) s.Set("gaveUpAtStep", static_cast<double>(st.gaveUpAtStep));
  Napi::Float64Array bits = Napi::Float64Array::New(env, st.chunkBits.size());
  for (size_t i = 0; i < st.chunkBits.size(); ++i) bits[i] = st.chunkBits[i];
  s.Set("chunkBits", bits);
  Napi::Float64Array modelBits = Napi::Float64Array::New(env, st.chunkModelBits.size());
  for (size_t i = 0; i < st.chunkModelBits.size(); ++i) modelBits[i] = st.chunkModelBits[i];
  s.Set("chunkModelBits", modelBits);
  Napi::Array tokenBits = Napi::Array::New(env, st.tokenModelBits.size());
  for (size_t i = 0; i < st.tokenModelBits.size(); ++i) {
    const auto& v = st.tokenModelBits[i];
    Napi::Float64Array a = Napi::Float64Array::New(env, v.size());
    for (size_t k = 0; k < v.size(); ++k) a[k] = v[k];
    tokenBits[i] = a;
  }
  s.Set("tokenModelBits", tokenBits);
  return s;
}

// codeWithLogits(rows, vocab, tokens, opts?) -> { stream, modelBits, stats }
Napi::Value CodeWithLogits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array rows = info[0].As<Napi::Float32Array>();
  const int32_t vocab = info[1].As<Napi::Number>().Int32Value();
  Napi::Int32Array toks = info[2].As<Napi::Int32Array>();
  const size_t n = toks.ElementLength();
  if (vocab < 1 || rows.ElementLength() != n * static_cast<size_t>(vocab)) throw Napi::RangeError::New(env, "rows must be tokens x vocab");
  RowRun run = rowRun(env, info[3], vocab, n);
  std::vector<std::vector<int32_t>> chunks;
  size_t at = 0;
  for (int32_t len : run.lengths) {
    chunks.emplace_back(toks.Data() + at, toks.Data() + at + len);
    at += static_cast<size_t>(len);
  }
  RowLogits source(rows.Data(), vocab, run.lengths);
  llmzip::LaneRunStats stats;
  std::vector<uint8_t> out, bareOut;
  std::atomic<int64_t> progress{0};
  std::atomic<bool> cancel{false};
  try {
    llmzip::runLanes(source, run.cfg, chunks, false, nullptr, &out, stats, progress, cancel, &bareOut);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(e.what()).find("NaN or infinite logits") != std::string::npos ? "invalid logits" : e.what());
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("stream", Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size()));
  if (run.cfg.bareToo) r.Set("bareStream", Napi::Buffer<uint8_t>::Copy(env, bareOut.data(), bareOut.size()));
  r.Set("modelBits", stats.modelBits);
  r.Set("stats", statsObject(env, stats));
  return r;
}

// decodeWithLogits(stream, rows, vocab, opts?) -> tokens (chunks concatenated)
Napi::Value DecodeWithLogits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array stream = info[0].As<Napi::Uint8Array>();
  Napi::Float32Array rows = info[1].As<Napi::Float32Array>();
  const int32_t vocab = info[2].As<Napi::Number>().Int32Value();
  if (vocab < 1 || rows.ElementLength() % static_cast<size_t>(vocab) != 0) throw Napi::RangeError::New(env, "rows must be tokens x vocab");
  const size_t n = rows.ElementLength() / vocab;
  RowRun run = rowRun(env, info[3], vocab, n);
  // Chunks start empty and grow as they decode, as in the engine.
  std::vector<std::vector<int32_t>> chunks(run.lengths.size());
  run.cfg.decodeLengths = run.lengths;
  RowLogits source(rows.Data(), vocab, run.lengths);
  llmzip::LaneRunStats stats;
  std::vector<uint8_t> bytes(stream.Data(), stream.Data() + stream.ByteLength());
  std::atomic<int64_t> progress{0};
  std::atomic<bool> cancel{false};
  try {
    llmzip::runLanes(source, run.cfg, chunks, true, &bytes, nullptr, stats, progress, cancel);
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string(e.what()).find("NaN or infinite logits") != std::string::npos ? "invalid logits" : e.what());
  }
  Napi::Int32Array out = Napi::Int32Array::New(env, n);
  size_t at = 0;
  for (const auto& c : chunks) {
    if (!c.empty()) std::memcpy(out.Data() + at, c.data(), c.size() * sizeof(int32_t));
    at += c.size();
  }
  return out;
}

Napi::Value FrequencyTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Float32Array l = info[0].As<Napi::Float32Array>();
  llmzip::FreqTable table;
  if (!table.build(l.Data(), static_cast<int32_t>(l.ElementLength()))) throw Napi::Error::New(env, "invalid logits");
  Napi::Uint32Array out = Napi::Uint32Array::New(env, table.freq.size());
  std::memcpy(out.Data(), table.freq.data(), table.freq.size() * sizeof(uint32_t));
  return out;
}

Napi::Value Engine::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireModel(env);
  if (!ctx_) throw Napi::Error::New(env, "engine is not configured");
  if (busy_.exchange(true)) throw Napi::Error::New(env, "engine is busy");
  try {
    std::vector<std::vector<int32_t>> chunks = tokenLists(env, info[0], "chunks");
    Napi::Object opts = info[1].As<Napi::Object>();
    llmzip::LaneRunConfig cfg = runConfig(model_, lanes_, opts);
    if (opts.Get("prefixLengths").IsArray()) {
      Napi::Array p = opts.Get("prefixLengths").As<Napi::Array>();
      if (p.Length() != chunks.size()) throw Napi::RangeError::New(env, "one context length per chunk is needed");
      for (uint32_t i = 0; i < p.Length(); ++i) {
        const double n = p.Get(i).As<Napi::Number>().DoubleValue();
        if (!(n >= 0 && n <= static_cast<double>(chunks[i].size()))) throw Napi::RangeError::New(env, "context prefix longer than its chunk");
        cfg.prefixLengths.push_back(static_cast<int32_t>(n));
      }
    }
    cfg.giveUp = giveUpCheckpoints(env, opts);
    if (opts.Has("scoreRows") && !opts.Get("scoreRows").IsUndefined()) {
      cfg.scoreRows = opts.Get("scoreRows").As<Napi::Number>().Int32Value();
      if (cfg.scoreRows < 1 || cfg.scoreRows > batchRows_) throw Napi::RangeError::New(env, "scoreRows must be from 1 to the context's batch rows");
      if (cfg.span.enabled() || !cfg.prefixLengths.empty() || cfg.mixer != 0) throw Napi::RangeError::New(env, "scoring takes no span mode, context prefixes or mixer");
      // Each chunk sits on lane 0's cells from position 0.
      for (const auto& c : chunks)
        if (c.size() > static_cast<size_t>(llama_n_ctx(ctx_) / std::max(1, lanes_))) throw Napi::RangeError::New(env, "a chunk to score is longer than a lane's context");
    }
    checkRunShape(env, cfg, chunks.size());
    cancel_.store(false);
    progress_.store(0);
    auto* w = new LaneWorker(env, this, Value(), false, cfg, std::move(chunks), {});
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  } catch (...) {
    busy_.store(false);
    throw;
  }
}

Napi::Value Engine::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  requireModel(env);
  if (!ctx_) throw Napi::Error::New(env, "engine is not configured");
  if (busy_.exchange(true)) throw Napi::Error::New(env, "engine is busy");
  try {
    Napi::Uint8Array stream = info[0].As<Napi::Uint8Array>();
    Napi::Array lengths = info[1].As<Napi::Array>();
    Napi::Object opts = info[2].As<Napi::Object>();
    llmzip::LaneRunConfig cfg = runConfig(model_, lanes_, opts);
    std::vector<std::vector<int32_t>> prefixes;
    if (opts.Get("prefixes").IsArray()) {
      prefixes = tokenLists(env, opts.Get("prefixes"), "prefixes");
      if (prefixes.size() != lengths.Length()) throw Napi::RangeError::New(env, "one context prefix per chunk is needed");
    }
    std::vector<std::vector<int32_t>> chunks(lengths.Length());
    for (uint32_t i = 0; i < lengths.Length(); ++i) {
      const double n = lengths.Get(i).As<Napi::Number>().DoubleValue();
      if (!(n >= 0 && n <= 2147483647.0)) throw Napi::RangeError::New(env, "chunk token count out of range");
      if (!prefixes.empty()) {
        chunks[i] = std::move(prefixes[i]);
        cfg.prefixLengths.push_back(static_cast<int32_t>(chunks[i].size()));
      }
      // Not allocated here: a header can declare far more tokens than its stream holds.
      cfg.decodeLengths.push_back(static_cast<int32_t>(n));
    }
    checkRunShape(env, cfg, chunks.size());
    cfg.skipCoding = false;
    cancel_.store(false);
    progress_.store(0);
    std::vector<uint8_t> bytes(stream.Data(), stream.Data() + stream.ByteLength());
    auto* w = new LaneWorker(env, this, Value(), true, cfg, std::move(chunks), std::move(bytes));
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  } catch (...) {
    busy_.store(false);
    throw;
  }
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("loadBackends", Napi::Function::New(env, LoadBackends));
  exports.Set("Engine", Engine::Define(env));
  exports.Set("codeWithLogits", Napi::Function::New(env, CodeWithLogits));
  exports.Set("decodeWithLogits", Napi::Function::New(env, DecodeWithLogits));
  exports.Set("frequencyTable", Napi::Function::New(env, FrequencyTable));
  return exports;
}

}  // namespace

NODE_API_MODULE(llmzip_native, Init)
