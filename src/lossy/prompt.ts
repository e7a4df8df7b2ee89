/**
 * The rewriting prompt: built in, or replaced from a file. A prompt file
 * that contains `{{text}}` is a complete user message with the section put
 * in its place; any other prompt file is the system message, and the
 * section is the user message.
 */
import type { ChatMessage } from "../chat/types.js";
import { FileError, UsageError } from "../errors.js";

export const DEFAULT_REWRITE_PROMPT = [
  "Rewrite the text the user sends as succinctly as possible.",
  "Keep every fact, name, number and event, in the original order and language; drop repetition, filler and ornament.",
  "Reply with the rewrite only: no title, introduction, explanation or comment.",
].join(" ");

export const TEXT_PLACEHOLDER = "{{text}}";

export interface RewritePrompt {
  text: string;
  /** "built-in" or the file it came from (for messages only; archives record the hash). */
  source: string;
}

export const builtInPrompt = (): RewritePrompt => ({ text: DEFAULT_REWRITE_PROMPT, source: "built-in" });

/** A prompt from a file's bytes (UTF-8 text, not empty). */
export function promptFromBytes(bytes: Uint8Array, file: string): RewritePrompt {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new FileError(`${file}: a prompt file must be UTF-8 text`);
  }
  if (!text.trim()) throw new UsageError(`${file}: the prompt file is empty`);
  return { text, source: file };
}

/** The chat request that asks for the rewrite of one section. */
export function rewriteMessages(prompt: RewritePrompt, section: string): ChatMessage[] {
  if (prompt.text.includes(TEXT_PLACEHOLDER)) return [{ role: "user", content: prompt.text.split(TEXT_PLACEHOLDER).join(section) }];
  return [
    { role: "system", content: prompt.text },
    { role: "user", content: section },
  ];
}
