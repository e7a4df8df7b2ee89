/**
 * A client for OpenAI-compatible chat-completions endpoints (OpenAI,
 * llama.cpp's server, vLLM, Ollama, LM Studio...). Every way it can fail
 * becomes one ChatError line naming the endpoint and what to do; the API
 * key is read from the environment, sent only in the Authorization header,
 * and never stored or printed.
 */
import { CancelledError, ChatError, UsageError } from "../errors.js";
import type { ChatBudget, ChatMessage, ChatModel, ChatReply, ChatRequest } from "./types.js";

/** The environment variable that holds the API key. */
export const API_KEY_ENV = "LLMZIP_API_KEY";
export const DEFAULT_ENDPOINT_TIMEOUT_MS = 120_000;
/** Characters per token used to estimate sizes when the endpoint's tokenizer is unknown. */
const CHARS_PER_TOKEN = 4;
const MAX_ERROR_DETAIL = 200;

export interface EndpointOptions {
  /** Base URL (`http://host:8080/v1`) or the full `.../chat/completions` URL. */
  url: string;
  /** The `model` field of the request. */
  model: string;
  /** Per request, in milliseconds (default 120 s). */
  timeoutMs?: number;
  /** Defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The chat-completions URL for a base URL; rejects what is not http(s). */
export function completionsUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`not a URL: '${raw}' (expected e.g. http://127.0.0.1:8080/v1)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`endpoint URL must be http or https (got ${url.protocol})`);
  if (!url.pathname.endsWith("/chat/completions")) url.pathname = `${url.pathname.replace(/\/+$/, "")}/chat/completions`;
  return url;
}

/** Host and path of an endpoint without credentials or query: safe to record and print. */
export function publicEndpoint(url: URL): string {
  return `${url.host}${url.pathname.replace(/\/chat\/completions$/, "")}`;
}

function describeNetworkError(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  switch (cause?.code) {
    case "ECONNREFUSED":
      return "connection refused (is the server running?)";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
      return "the connection was closed before an answer came";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    default:
      return cause?.message ?? (e as Error).message ?? String(e);
  }
}

/** The server's own error text from a JSON or plain body, shortened to one line. */
function errorDetail(body: string): string {
  let text = body;
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof parsed.error === "string" ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (typeof m === "string") text = m;
  } catch {
    /* not JSON: show the text itself */
  }
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > MAX_ERROR_DETAIL ? `${line.slice(0, MAX_ERROR_DETAIL)}…` : line;
}

interface CompletionBody {
  choices?: { message?: { content?: unknown; refusal?: unknown }; finish_reason?: unknown }[];
}

export class EndpointChatModel implements ChatModel {
  readonly kind = "endpoint" as const;
  readonly identity: string;
  readonly budget: ChatBudget = { countTokens: (text) => Math.ceil(text.length / CHARS_PER_TOKEN) };
  private readonly url: URL;
  private readonly model: string;
  private readonly timeoutMs: number;
  private readonly apiKey: string | undefined;
  private readonly where: string;

  constructor(opts: EndpointOptions) {
    this.url = completionsUrl(opts.url);
    if (!opts.model) throw new UsageError("an endpoint needs a model name (--rewriter-model / --large-model NAME)");
    this.model = opts.model;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_ENDPOINT_TIMEOUT_MS;
    if (!(this.timeoutMs > 0)) throw new UsageError("the endpoint timeout must be positive");
    const key = (opts.env ?? process.env)[API_KEY_ENV];
    this.apiKey = key ? key : undefined;
    this.where = publicEndpoint(this.url);
    this.identity = `api:${this.model}@${this.where}`;
  }

  async complete(messages: ChatMessage[], req: ChatRequest = {}): Promise<ChatReply> {
    const body: Record<string, unknown> = { model: this.model, messages, temperature: 0, stream: false };
    if (req.maxTokens !== undefined) body.max_tokens = req.maxTokens;
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const fail = (what: string) => new ChatError(this.redact(`endpoint ${this.where} (${this.model}): ${what}`));

    let status: number;
    let statusText: string;
    let text: string;
    try {
      const res = await fetch(this.url, { method: "POST", headers, body: JSON.stringify(body), signal, redirect: "manual" });
      status = res.status;
      statusText = res.statusText;
      text = await res.text();
    } catch (e) {
      if (req.signal?.aborted) throw new CancelledError("interrupted");
      if (timeout.aborted) throw fail(`no answer within ${(this.timeoutMs / 1000).toFixed(1)} s (timeout)`);
      throw fail(`cannot connect: ${describeNetworkError(e)}`);
    }
    if (status < 200 || status > 299) {
      const hint = status === 401 || status === 403 ? (this.apiKey ? "; check the key in $" + API_KEY_ENV : "; set $" + API_KEY_ENV) : "";
      const detail = errorDetail(text);
      throw fail(`HTTP ${status}${statusText ? ` ${statusText}` : ""}${detail ? `: ${detail}` : ""}${hint}`);
    }
    let parsed: CompletionBody;
    try {
      parsed = JSON.parse(text) as CompletionBody;
    } catch {
      throw fail("the answer is not JSON (is this a chat-completions endpoint?)");
    }
    const choice = Array.isArray(parsed.choices) ? parsed.choices[0] : undefined;
    if (!choice || typeof choice !== "object") throw fail("the answer has no choices (is this a chat-completions endpoint?)");
    const refusal = choice.message?.refusal;
    if (typeof refusal === "string" && refusal.trim()) throw fail(`the model refused: ${errorDetail(refusal)}`);
    if (choice.finish_reason === "content_filter") throw fail("the answer was withheld by the endpoint's content filter");
    const content = choice.message?.content;
    if (content !== null && content !== undefined && typeof content !== "string") throw fail("the answer's content is not text");
    const reply = typeof content === "string" ? content.trim() : "";
    if (!reply) throw fail("empty answer");
    return { text: reply, finish: choice.finish_reason === "length" ? "length" : "stop" };
  }

  async close(): Promise<void> {
    /* nothing is held between requests */
  }

  /** Servers sometimes echo the request; the key must not reach the user's terminal or logs. */
  private redact(message: string): string {
    return this.apiKey ? message.split(this.apiKey).join("***") : message;
  }
}
