/**
 * The one face every chat model has in llmzip, whether it runs here from a
 * GGUF file or behind an OpenAI-compatible endpoint: the lossy mode's
 * rewriter and the question-asking protocol's models all speak it.
 */

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatRequest {
  /** Most tokens the reply may have; a local model also caps it to what its context leaves. */
  maxTokens?: number;
  signal?: AbortSignal;
}

export interface ChatReply {
  text: string;
  /** "length": the reply was cut at the token limit. */
  finish: "stop" | "length";
}

/** How much text one request can carry, so that callers can cut long inputs. */
export interface ChatBudget {
  /** Tokens of the model's context (local models), when known. */
  contextTokens?: number;
  /** Counts tokens exactly (local) or estimates them from characters (endpoint). */
  countTokens(text: string): number;
}

export interface ChatModel {
  /** Short, stable description recorded in archives: `gguf:NAME#SHA256PREFIX` or `api:MODEL@HOST/PATH`. */
  readonly identity: string;
  readonly kind: "gguf" | "endpoint";
  readonly budget: ChatBudget;
  /** Greedy (temperature 0) completion of a conversation that ends with a user message. */
  complete(messages: ChatMessage[], req?: ChatRequest): Promise<ChatReply>;
  close(): Promise<void>;
}

/**
 * A chat model that can also say how likely it finds each of two answers
 * as the first word of its reply (local models only: endpoints do not
 * reliably expose probabilities).
 */
export interface ScoringChatModel extends ChatModel {
  /** P(first answer) / (P(first) + P(second)) for the reply to `messages`, from the next-token distribution. */
  choiceProbability(messages: ChatMessage[], choices: readonly [string, string], signal?: AbortSignal): Promise<number>;
}

export function isScoring(model: ChatModel): model is ScoringChatModel {
  return typeof (model as Partial<ScoringChatModel>).choiceProbability === "function";
}
