/**
 * The question-asking protocol's prompts: built in, or replaced from a JSON
 * file with any of the keys `draft`, `ask`, `final`, `answer`. Each prompt
 * is a system message and a user template; `{{task}}`, `{{draft}}`,
 * `{{transcript}}` and `{{question}}` are filled in. The small model's
 * behaviour depends on all four (it predicts the expert's answer with the
 * `answer` prompt), so messages record a hash of them.
 */
import { createHash } from "node:crypto";
import type { ChatMessage } from "../chat/types.js";
import { UsageError } from "../errors.js";

export interface PromptTemplate {
  system: string;
  user: string;
}

export interface QaPrompts {
  /** The small model's first answer to the task. */
  draft: PromptTemplate;
  /** The small model's next yes/no question. */
  ask: PromptTemplate;
  /** The small model's final answer, after the questions. */
  final: PromptTemplate;
  /** The expert's yes/no answer (the large model; the small one predicts it with the same prompt). */
  answer: PromptTemplate;
}

export const DEFAULT_QA_PROMPTS: QaPrompts = {
  draft: {
    system: "Solve the task. Reply with the answer only, briefly.",
    user: "{{task}}",
  },
  ask: {
    system:
      "You are checking your draft answer to a task with an expert who can only answer yes or no. " +
      "Ask the one yes/no question whose answer would help you most to get the final answer right. Reply with the question only.",
    user: "Task:\n{{task}}\n\nYour draft answer:\n{{draft}}\n\nQuestions asked so far:\n{{transcript}}\n\nYour next yes/no question:",
  },
  final: {
    system: "Solve the task, using your draft and the expert's yes/no answers to your questions. Reply with the final answer only, briefly.",
    user: "Task:\n{{task}}\n\nYour draft answer:\n{{draft}}\n\nYour questions and the expert's answers:\n{{transcript}}\n\nYour final answer:",
  },
  answer: {
    system: "You are an expert. Answer the question about the task truthfully with one word: yes or no.",
    user: "Task:\n{{task}}\n\nA student's draft answer:\n{{draft}}\n\nThe student asks: {{question}}\n\nAnswer yes or no.",
  },
};

const KEYS = ["draft", "ask", "final", "answer"] as const;

/** Built-in prompts with those a JSON file replaces. */
export function promptsFromJson(text: string, file: string): QaPrompts {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: not JSON (${(e as Error).message})`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new UsageError(`${file}: expected an object with any of the keys ${KEYS.join(", ")}`);
  const out: QaPrompts = { ...DEFAULT_QA_PROMPTS };
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!(KEYS as readonly string[]).includes(key)) throw new UsageError(`${file}: unknown prompt '${key}' (known: ${KEYS.join(", ")})`);
    const v = value as Partial<PromptTemplate> | null;
    if (!v || typeof v.system !== "string" || typeof v.user !== "string" || !v.user.trim()) {
      throw new UsageError(`${file}: prompt '${key}' needs "system" and "user" strings`);
    }
    out[key as (typeof KEYS)[number]] = { system: v.system, user: v.user };
  }
  return out;
}

/** sha256 of the four prompts in a fixed, unambiguous serialisation. */
export function promptsSha256(p: QaPrompts): Buffer {
  return createHash("sha256")
    .update(JSON.stringify(KEYS.map((k) => [p[k].system, p[k].user])))
    .digest();
}

export interface PromptFields {
  task: string;
  draft?: string;
  transcript?: string;
  question?: string;
}

/** Fills a template; placeholders are replaced in one pass, so a field's text is never re-read as a placeholder. */
export function render(t: PromptTemplate, f: PromptFields): ChatMessage[] {
  const values: Record<string, string> = { task: f.task, draft: f.draft ?? "", transcript: f.transcript ?? "", question: f.question ?? "" };
  const fill = (s: string) => s.replace(/\{\{(task|draft|transcript|question)\}\}/g, (_, k: string) => values[k] ?? "");
  const messages: ChatMessage[] = [];
  if (t.system.trim()) messages.push({ role: "system", content: fill(t.system) });
  messages.push({ role: "user", content: fill(t.user) });
  return messages;
}
