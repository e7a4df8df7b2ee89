/**
 * Rewrites a text section by section with a chat model, so that inputs of
 * any length fit the rewriter's context.
 */
import type { ChatModel, ChatReply } from "../chat/types.js";
import { CancelledError, ChatError, UsageError } from "../errors.js";
import { rewriteMessages, type RewritePrompt } from "./prompt.js";
import { looksRefused } from "./refusal.js";
import { splitSections } from "./sections.js";

/** Sections are at most this many tokens even where the rewriter's context allows more: rewrites of very long inputs lose detail. */
export const MAX_SECTION_TOKENS = 2000;
/** Share of a local rewriter's context given to the section; the rest holds the prompt and the reply. */
const SECTION_SHARE = 0.55;
/** Room the chat template itself takes around the messages, in tokens. */
const TEMPLATE_TOKENS = 48;
const MIN_SECTION_TOKENS = 16;

export interface RewriteOptions {
  prompt: RewritePrompt;
  /** Tokens per section (default: what the rewriter's context allows, at most 2000). */
  sectionTokens?: number;
  signal?: AbortSignal;
  onSection?: (done: number, total: number) => void;
}

export interface RewriteResult {
  text: string;
  sections: number;
  /** Sections whose rewrite was cut at the reply's token limit. */
  truncated: number;
}

/** Tokens per section for a rewriter and prompt. */
export function sectionBudget(rewriter: ChatModel, prompt: RewritePrompt, asked?: number): number {
  const ctx = rewriter.budget.contextTokens;
  const fits = ctx ? Math.floor((ctx - rewriter.budget.countTokens(prompt.text) - TEMPLATE_TOKENS) * SECTION_SHARE) : MAX_SECTION_TOKENS;
  const budget = Math.min(asked ?? MAX_SECTION_TOKENS, fits);
  if (budget < MIN_SECTION_TOKENS) {
    throw new UsageError(`the rewriter's ${ctx}-token context leaves no room for text after the ${rewriter.budget.countTokens(prompt.text)}-token prompt; use a shorter prompt or a model with a longer context`);
  }
  return budget;
}

/** Sections joined by a blank line; a text that ended with a newline ends with one. */
function join(rewrites: string[], original: string): string {
  const body = rewrites.join("\n\n");
  return body && /\n\s*$/.test(original) ? `${body}\n` : body;
}

/**
 * Rewrites `text`. Throws ChatError (nothing returned) when any section's
 * rewrite is empty or a refusal, or the rewriter fails.
 */
export async function rewriteText(text: string, rewriter: ChatModel, opts: RewriteOptions): Promise<RewriteResult> {
  const budget = sectionBudget(rewriter, opts.prompt, opts.sectionTokens);
  const sections = splitSections(text, budget, rewriter.budget.countTokens).filter((s) => s.trim().length > 0);
  const rewrites: string[] = [];
  let truncated = 0;
  opts.onSection?.(0, sections.length);
  for (const [i, section] of sections.entries()) {
    if (opts.signal?.aborted) throw new CancelledError("interrupted");
    const where = sections.length > 1 ? ` (section ${i + 1} of ${sections.length})` : "";
    const failed = (what: string) => new ChatError(`rewriting failed${where}: ${what}; nothing was written`);
    let reply: ChatReply;
    try {
      // A rewrite as long as its section has already failed at being succinct.
      const maxTokens = Math.max(MIN_SECTION_TOKENS, rewriter.budget.countTokens(section));
      reply = await rewriter.complete(rewriteMessages(opts.prompt, section), { maxTokens, signal: opts.signal });
    } catch (e) {
      if (e instanceof ChatError) throw failed(e.message);
      throw e;
    }
    const rewrite = reply.text.trim();
    if (!rewrite) throw failed(`${rewriter.identity} gave an empty rewrite`);
    if (looksRefused(rewrite, section)) throw failed(`${rewriter.identity} refused: "${rewrite.slice(0, 120).replace(/\s+/g, " ")}"`);
    if (reply.finish === "length") truncated++;
    rewrites.push(rewrite);
    opts.onSection?.(i + 1, sections.length);
  }
  return { text: join(rewrites, text), sections: sections.length, truncated };
}
