/**
 * Cuts a long text into sections a rewriter can take one at a time: at
 * paragraph breaks where possible, then line ends, sentence ends, spaces,
 * and only as a last resort inside a word. The sections concatenate back
 * to exactly the text.
 */

/** Separators tried in order, coarsest first; each keeps its text on the left piece. */
const LEVELS: RegExp[] = [/(?<=\n[ \t]*\n)/, /(?<=\n)/, /(?<=[.!?;:][)"'\u201d\u2019]?\s)/, /(?<=\s)/];

/** Splits at a UTF-16 position that does not fall between the halves of a surrogate pair. */
function hardSplit(text: string, size: number): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    let end = Math.min(text.length, pos + Math.max(1, size));
    const code = text.charCodeAt(end - 1);
    if (end < text.length && code >= 0xd800 && code <= 0xdbff) end = end - 1 > pos ? end - 1 : end + 1;
    out.push(text.slice(pos, end));
    pos = end;
  }
  return out;
}

/** Pieces of `text` no larger than `max` tokens each, cut at the coarsest separator that does it. */
function pieces(text: string, max: number, count: (s: string) => number, level: number): { text: string; tokens: number }[] {
  const tokens = count(text);
  if (tokens <= max) return [{ text, tokens }];
  const sep = LEVELS[level];
  if (!sep) {
    // No separator left: cut by characters in proportion to the token count
    // (final: a single character may still count as several tokens).
    const size = Math.max(1, Math.floor((text.length * max) / tokens));
    return hardSplit(text, size).map((p) => ({ text: p, tokens: count(p) }));
  }
  const parts = text.split(sep).filter((p) => p.length > 0);
  if (parts.length <= 1) return pieces(text, max, count, level + 1);
  return parts.flatMap((p) => pieces(p, max, count, level + 1));
}

/**
 * Sections of at most about `maxTokens` tokens (token counts of pieces are
 * added, so a section may exceed the limit by a token per piece boundary;
 * callers leave that margin). `sections.join("") === text`.
 */
export function splitSections(text: string, maxTokens: number, count: (s: string) => number): string[] {
  if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new RangeError("maxTokens must be a positive integer");
  if (text.length === 0) return [];
  const sections: string[] = [];
  let current = "";
  let currentTokens = 0;
  for (const p of pieces(text, maxTokens, count, 0)) {
    if (current && currentTokens + p.tokens > maxTokens) {
      sections.push(current);
      current = "";
      currentTokens = 0;
    }
    current += p.text;
    currentTokens += p.tokens;
  }
  if (current) sections.push(current);
  return sections;
}
