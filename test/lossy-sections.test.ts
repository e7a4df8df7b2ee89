import { describe, expect, it } from "vitest";
import { rewriteMessages, TEXT_PLACEHOLDER, DEFAULT_REWRITE_PROMPT, promptFromBytes } from "../src/lossy/prompt.js";
import { looksRefused } from "../src/lossy/refusal.js";
import { splitSections } from "../src/lossy/sections.js";

/** One "token" per word-ish piece: enough to exercise the budget arithmetic. */
const words = (s: string) => (s.match(/\S+/g) ?? []).length;

const paragraph = (n: number, words: number) => `${Array.from({ length: words }, (_, i) => `w${n}_${i}`).join(" ")}.`;

describe("splitting long inputs into sections", () => {
  it("keeps every character, in order, and respects the budget", () => {
    const text = Array.from({ length: 30 }, (_, i) => paragraph(i, 5 + (i % 7) * 9)).join("\n\n") + "\n";
    for (const max of [10, 25, 60, 1000]) {
      const sections = splitSections(text, max, words);
      expect(sections.join("")).toBe(text);
      for (const s of sections) expect(words(s)).toBeLessThanOrEqual(max);
      if (max >= 1000) expect(sections).toEqual([text]);
    }
  });

  it("cuts at paragraph breaks when paragraphs fit", () => {
    const text = [paragraph(1, 8), paragraph(2, 8), paragraph(3, 8)].join("\n\n");
    const sections = splitSections(text, 10, words);
    expect(sections).toHaveLength(3);
    expect(sections[0]).toBe(`${paragraph(1, 8)}\n\n`);
    expect(sections[2]).toBe(paragraph(3, 8));
  });

  it("falls back to line, sentence and word breaks inside long paragraphs", () => {
    const lines = "a b c d\ne f g h\ni j k l";
    expect(splitSections(lines, 4, words)).toEqual(["a b c d\n", "e f g h\n", "i j k l"]);
    const sentences = "One two three. Four five six. Seven eight nine.";
    expect(splitSections(sentences, 3, words)).toEqual(["One two three. ", "Four five six. ", "Seven eight nine."]);
    const flat = "a b c d e f g";
    expect(splitSections(flat, 3, words)).toEqual(["a b c ", "d e f ", "g"]);
  });

  it("cuts inside a word only when nothing else is left, never inside a surrogate pair", () => {
    const chars = (s: string) => [...s].length;
    const text = "\u{1F600}".repeat(10);
    const sections = splitSections(text, 3, chars);
    expect(sections.join("")).toBe(text);
    for (const s of sections) expect(s.isWellFormed()).toBe(true);
    expect(splitSections("", 5, chars)).toEqual([]);
    expect(() => splitSections("x", 0, chars)).toThrow(RangeError);
  });
});

describe("rewrite prompts", () => {
  it("sends the built-in prompt as the system message and the section as the user message", () => {
    expect(rewriteMessages({ text: DEFAULT_REWRITE_PROMPT, source: "built-in" }, "Some text.")).toEqual([
      { role: "system", content: DEFAULT_REWRITE_PROMPT },
      { role: "user", content: "Some text." },
    ]);
  });

  it("puts the section in place of {{text}} when the prompt has it", () => {
    const prompt = { text: `Summarise:\n${TEXT_PLACEHOLDER}\nEnd. (${TEXT_PLACEHOLDER})`, source: "p.txt" };
    expect(rewriteMessages(prompt, "X $& Y")).toEqual([{ role: "user", content: "Summarise:\nX $& Y\nEnd. (X $& Y)" }]);
  });

  it("rejects empty and non-UTF-8 prompt files", () => {
    expect(() => promptFromBytes(Buffer.from("  \n"), "p.txt")).toThrow(/empty/);
    expect(() => promptFromBytes(Buffer.from([0xff, 0xfe, 0x41]), "p.txt")).toThrow(/UTF-8/);
    expect(promptFromBytes(Buffer.from("Be brief."), "p.txt")).toEqual({ text: "Be brief.", source: "p.txt" });
  });
});

describe("recognising refusals", () => {
  it("catches short stock refusals", () => {
    for (const r of ["I'm sorry, but I can't help with that.", "I can\u2019t assist with this request.", "As an AI language model, I cannot rewrite this.", "I cannot comply."]) {
      expect(looksRefused(r, "The cat sat on the mat.")).toBe(true);
    }
  });

  it("lets real rewrites through, also ones that open like a refusal when the text does", () => {
    expect(looksRefused("The cat sat on the mat.", "The cat, who was grey, sat on the old mat.")).toBe(false);
    expect(looksRefused("I'm sorry, said Tom, I broke it.", "\"I'm sorry,\" said Tom. \"I broke the vase.\"".replace(/"/g, ""))).toBe(false);
    expect(looksRefused(`I'm sorry ${"x ".repeat(300)}`, "long text")).toBe(false);
  });
});
