/**
 * A chat model run here from a GGUF file through node-llama-cpp, with the
 * model's own chat template and greedy decoding. Every request starts from
 * an empty context, so that a reply depends only on the request (and the
 * question-asking protocol can replay it exactly). It runs on llmzip's own
 * choice of llama.cpp CPU kernels, shared with the coding engine.
 */
import fs from "node:fs";
import path from "node:path";
import type { ChatHistoryItem, Llama, LlamaChatSession, LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { CancelledError, ChatError, ModelError, UsageError } from "../errors.js";
import { defaultThreads, loadLlamaBackends } from "../engine/engine.js";
import type { Backend } from "../engine/locate.js";
import { fingerprintFile } from "../models/fingerprint.js";
import { readGgufInfo } from "../models/gguf.js";
import type { ChatBudget, ChatMessage, ChatReply, ChatRequest, ScoringChatModel } from "./types.js";

/** Context of a local chat model: its training context, at most this. */
export const DEFAULT_CHAT_CONTEXT = 8192;
/** Prompt evaluation batch: fixed, because the batch shape changes logits. */
const BATCH_SIZE = 512;
/** A reply needs at least this many tokens of room after the prompt. */
const MIN_REPLY_TOKENS = 8;

export interface LocalChatOptions {
  /** llama.cpp threads; default: the coding engine's rule ({@link defaultThreads}), never node-llama-cpp's (too many on small machines). */
  threads?: number;
  /** Backend of the process's llama.cpp libraries; must match the coding engine's (default cpu). */
  backend?: Backend;
  /** Context tokens (default: the model's, at most 8192). */
  contextTokens?: number;
  /** llama.cpp CPU kernels, as for the coding engine (default: the portable set); one set per process. */
  cpuKernels?: string;
  onWarning?: (message: string) => void;
  verbose?: boolean;
}

const llamas = new Map<Backend, Promise<Llama>>();

/**
 * node-llama-cpp's binding for a backend, loaded once per process. Never
 * builds from source (a failing prebuilt would otherwise start a build of
 * several minutes) and never downloads.
 */
async function llamaFor(backend: Backend, opts: Pick<LocalChatOptions, "cpuKernels" | "onWarning" | "verbose">): Promise<Llama> {
  // Our kernels first: node-llama-cpp then finds llama.cpp's backends loaded
  // and uses them, instead of loading the fastest ones and moving the coding
  // engine's logits under it (measured: zen4 kernels replaced haswell).
  loadLlamaBackends(backend, opts);
  const hit = llamas.get(backend);
  if (hit) return hit;
  const verbose = Boolean(opts.verbose);
  const loading = (async () => {
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    try {
      return await getLlama({ gpu: backend === "cpu" ? false : backend, build: "never", logLevel: verbose ? LlamaLogLevel.warn : LlamaLogLevel.error, skipDownload: true });
    } catch (e) {
      throw new ModelError(`node-llama-cpp could not load its ${backend} binaries: ${(e as Error).message.split("\n")[0]}`);
    }
  })();
  llamas.set(backend, loading);
  loading.catch(() => llamas.delete(backend));
  return loading;
}

function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  return messages.map((m): ChatHistoryItem => {
    if (m.role === "system") return { type: "system", text: m.content };
    if (m.role === "user") return { type: "user", text: m.content };
    return { type: "model", response: [m.content] };
  });
}

/** The model's parameter count from its GGUF header; unknown (a file that is no GGUF fails to load just below) counts as large. */
function parameterCount(modelPath: string): number {
  try {
    return readGgufInfo(modelPath).parameters;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

export class LocalChatModel implements ScoringChatModel {
  readonly kind = "gguf" as const;
  readonly identity: string;
  readonly budget: ChatBudget;
  /** sha256 of the GGUF file. */
  readonly sha256: Buffer;
  /** Where the model runs (its logits, and so its replies, depend on it). */
  readonly backend: Backend;
  private closed = false;

  private constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
    identity: { name: string; sha256: Buffer; backend: Backend },
  ) {
    this.identity = `gguf:${identity.name}#${identity.sha256.toString("hex").slice(0, 16)}`;
    this.sha256 = identity.sha256;
    this.backend = identity.backend;
    this.budget = { contextTokens: context.contextSize, countTokens: (text) => model.tokenize(text).length };
  }

  /** Loads a GGUF chat model. `identity` names the file by its sha256, so two copies agree. */
  static async open(modelPath: string, opts: LocalChatOptions): Promise<LocalChatModel> {
    if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) throw new UsageError(`threads must be a positive whole number (got ${opts.threads})`);
    if (!fs.existsSync(modelPath) || !fs.statSync(modelPath).isFile()) throw new ModelError(`model file not found: ${modelPath}`);
    const threads = opts.threads ?? defaultThreads(parameterCount(modelPath));
    const fp = await fingerprintFile(modelPath);
    const backend = opts.backend ?? "cpu";
    const llama = await llamaFor(backend, opts);
    let model: LlamaModel;
    try {
      model = await llama.loadModel({ modelPath, gpuLayers: backend === "cpu" ? 0 : "max" });
    } catch (e) {
      throw new ModelError(`cannot load ${modelPath}: ${(e as Error).message.split("\n")[0]} (is it a GGUF model file?)`);
    }
    const train = model.trainContextSize || DEFAULT_CHAT_CONTEXT;
    const contextSize = opts.contextTokens ?? Math.min(train, DEFAULT_CHAT_CONTEXT);
    let context: LlamaContext;
    try {
      context = await model.createContext({ contextSize, threads, batchSize: Math.min(BATCH_SIZE, contextSize), flashAttention: false, sequences: 1 });
    } catch (e) {
      await model.dispose();
      throw new ModelError(`cannot create a ${contextSize}-token context for ${modelPath}: ${(e as Error).message.split("\n")[0]}`);
    }
    return new LocalChatModel(model, context, context.getSequence(), { name: path.basename(modelPath), sha256: fp.sha256, backend });
  }

  async complete(messages: ChatMessage[], req: ChatRequest = {}): Promise<ChatReply> {
    const last = messages[messages.length - 1];
    if (!last || last.role !== "user") throw new RangeError("a chat request must end with a user message");
    const { LlamaChatSession } = await import("node-llama-cpp");
    await this.sequence.clearHistory();
    const session = new LlamaChatSession({ contextSequence: this.sequence, autoDisposeSequence: false });
    try {
      const history = toHistory(messages.slice(0, -1));
      const promptTokens = this.promptTokens(session, [...history, { type: "user", text: last.content }, { type: "model", response: [] }]).length;
      const room = this.context.contextSize - promptTokens - 1;
      if (room < MIN_REPLY_TOKENS) {
        throw new ChatError(`${this.identity}: the request takes ${promptTokens} tokens and leaves no room for a reply in a ${this.context.contextSize}-token context (shorten the input or the prompt)`);
      }
      session.setChatHistory(history);
      const { responseText, stopReason } = await session.promptWithMeta(last.content, {
        temperature: 0,
        repeatPenalty: false,
        maxTokens: Math.min(room, req.maxTokens ?? room),
        signal: req.signal,
      });
      const text = responseText.trim();
      if (!text) throw new ChatError(`${this.identity}: empty reply`);
      return { text, finish: stopReason === "maxTokens" ? "length" : "stop" };
    } catch (e) {
      if (req.signal?.aborted) throw new CancelledError("interrupted");
      if (e instanceof ChatError) throw e;
      throw new ChatError(`${this.identity}: generation failed: ${(e as Error).message.split("\n")[0]}`);
    } finally {
      session.dispose({ disposeSequence: false });
    }
  }

  async choiceProbability(messages: ChatMessage[], choices: readonly [string, string], signal?: AbortSignal): Promise<number> {
    const { LlamaChatSession } = await import("node-llama-cpp");
    if (signal?.aborted) throw new CancelledError("interrupted");
    await this.sequence.clearHistory();
    const session = new LlamaChatSession({ contextSequence: this.sequence, autoDisposeSequence: false });
    try {
      const tokens = this.promptTokens(session, [...toHistory(messages), { type: "model", response: [] }]);
      if (tokens.length + 1 > this.context.contextSize) throw new ChatError(`${this.identity}: the request takes ${tokens.length} tokens, more than the ${this.context.contextSize}-token context`);
      const groups = choices.map((c) => this.firstTokens(c));
      // A token that starts both answers says nothing about either.
      const [a, b] = [groups[0]?.filter((t) => !groups[1]?.includes(t)) ?? [], groups[1]?.filter((t) => !groups[0]?.includes(t)) ?? []];
      const wanted = [...a, ...b];
      const input = tokens.map((t, i) => (i === tokens.length - 1 ? ([t, { generateNext: { logits: { filter: { tokens: wanted } } } }] as const) : t));
      const out = await this.sequence.controlledEvaluate(input as Parameters<LlamaContextSequence["controlledEvaluate"]>[0]);
      const logits = out[tokens.length - 1]?.next?.logits;
      if (!logits) throw new ChatError(`${this.identity}: no logits for the answer`);
      const values = wanted.map((t) => logits.get(t) ?? Number.NEGATIVE_INFINITY);
      const top = Math.max(...values);
      if (!Number.isFinite(top)) return 0.5;
      const weight = (group: Token[]) => group.reduce((s, t) => s + Math.exp((logits.get(t) ?? Number.NEGATIVE_INFINITY) - top), 0);
      const wa = weight(a);
      const wb = weight(b);
      return wa + wb > 0 ? wa / (wa + wb) : 0.5;
    } catch (e) {
      if (signal?.aborted) throw new CancelledError("interrupted");
      if (e instanceof ChatError) throw e;
      throw new ChatError(`${this.identity}: evaluation failed: ${(e as Error).message.split("\n")[0]}`);
    } finally {
      session.dispose({ disposeSequence: false });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.context.dispose();
    await this.model.dispose();
  }

  /** The exact tokens the chat template renders for a history. */
  private promptTokens(session: LlamaChatSession, history: ChatHistoryItem[]): Token[] {
    return session.chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(this.model.tokenizer);
  }

  /** First tokens of the ways a reply can start with `word` (case and a leading space vary by template). */
  private firstTokens(word: string): Token[] {
    const forms = new Set<string>();
    for (const w of [word, word.toLowerCase(), word.charAt(0).toUpperCase() + word.slice(1).toLowerCase(), word.toUpperCase()]) {
      forms.add(w);
      forms.add(` ${w}`);
    }
    const out = new Set<Token>();
    for (const f of forms) {
      const t = this.model.tokenize(f)[0];
      if (t !== undefined) out.add(t);
    }
    return [...out];
  }
}
