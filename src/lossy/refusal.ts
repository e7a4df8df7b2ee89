/**
 * Recognises a rewriter's refusal written as text (endpoints that flag
 * refusals in the protocol are caught by the chat client). Deliberately
 * narrow: only a short reply that opens with a stock refusal counts, so
 * that a rewrite of a text which itself says "I'm sorry" is not rejected.
 */
const OPENINGS = /^(?:i'm sorry|i am sorry|sorry, (?:but )?i|i apologi[sz]e|i can(?:no|')t (?:help|assist|do|rewrite|comply|provide|fulfil)|i cannot (?:help|assist|do|rewrite|comply|provide|fulfil)|i won't|i will not|i'm (?:not able|unable) to|i am (?:not able|unable) to|as an ai\b)/i;
/** Longer replies are treated as rewrites whatever their first words. */
const MAX_REFUSAL_CHARS = 400;

export function looksRefused(reply: string, section: string): boolean {
  const text = reply.trim().replace(/[\u2018\u2019]/g, "'");
  if (text.length > MAX_REFUSAL_CHARS || !OPENINGS.test(text)) return false;
  // The section itself opens the same way: the reply may well be its rewrite.
  return !OPENINGS.test(section.trim().replace(/[\u2018\u2019]/g, "'"));
}
