import { UsageError } from "../errors.js";
import type { Backend } from "../engine/locate.js";
import { EndpointChatModel } from "./endpoint.js";
import { LocalChatModel } from "./local.js";
import type { ChatModel } from "./types.js";

/** Where a chat model comes from: a GGUF file here, or an OpenAI-compatible endpoint. */
export type ChatModelSpec =
  | { path: string; threads?: number; backend?: Backend; contextTokens?: number; cpuKernels?: string; verbose?: boolean }
  | { url: string; model: string; timeoutMs?: number; env?: NodeJS.ProcessEnv };

/** True when a `--large PATH|URL` style argument names an endpoint. */
export function looksLikeUrl(value: string): boolean {
  return /^https?:\/\//i.test(value);
}

/** Opens a chat model; close it when done. */
export async function openChatModel(spec: ChatModelSpec): Promise<ChatModel> {
  if ("url" in spec) {
    if (!spec.model) throw new UsageError(`an endpoint needs a model name (the endpoint at ${spec.url})`);
    return new EndpointChatModel({ url: spec.url, model: spec.model, timeoutMs: spec.timeoutMs, env: spec.env });
  }
  return LocalChatModel.open(spec.path, spec);
}
