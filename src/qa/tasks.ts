/**
 * Benchmark task sets (JSON Lines, one task per line) and the checker that
 * grades an answer against a task's reference.
 */
import { UsageError } from "../errors.js";

/** How an answer is compared with the reference. */
export type CheckKind = "contains" | "exact" | "number" | "choice";
const KINDS: CheckKind[] = ["contains", "exact", "number", "choice"];

export interface QaTask {
  id: string;
  task: string;
  /** The reference answer. */
  answer: string;
  /** Default "contains". */
  check: CheckKind;
}

/** Parses a JSONL task set: `{"id", "task", "answer", "check"?}` per line; blank lines and `//` comments are skipped. */
export function parseTasks(text: string, file: string): QaTask[] {
  const tasks: QaTask[] = [];
  const ids = new Set<string>();
  text.split("\n").forEach((line, i) => {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith("//")) return;
    const where = `${file}:${i + 1}`;
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(trimmed) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`${where}: not JSON (${(e as Error).message})`);
    }
    const { id, task, answer } = raw;
    const check = raw.check ?? "contains";
    if (typeof task !== "string" || !task.trim()) throw new UsageError(`${where}: "task" must be a non-empty string`);
    if (typeof answer !== "string" && typeof answer !== "number") throw new UsageError(`${where}: "answer" (the reference) must be a string or number`);
    if (!KINDS.includes(check as CheckKind)) throw new UsageError(`${where}: "check" must be one of ${KINDS.join(", ")}`);
    const name = typeof id === "string" || typeof id === "number" ? String(id) : `line ${i + 1}`;
    if (ids.has(name)) throw new UsageError(`${where}: task id '${name}' appears twice`);
    ids.add(name);
    tasks.push({ id: name, task, answer: String(answer), check: check as CheckKind });
  });
  if (tasks.length === 0) throw new UsageError(`${file}: no tasks`);
  return tasks;
}

/** Lower case, letters and digits only, single spaces. */
export function normalise(s: string): string {
  return s
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

/** The last number in a reply: worked answers end with the result ("3 + 4 = 7"). */
function lastNumber(s: string): number | undefined {
  const all = s.replace(/(\d),(\d{3})\b/g, "$1$2").match(/-?\d+(?:\.\d+)?/g);
  const last = all?.[all.length - 1];
  return last === undefined ? undefined : Number(last);
}

function firstChoice(s: string): string | undefined {
  return /(?:^|[^A-Za-z])\(?([A-E])\)?(?![A-Za-z])/.exec(s)?.[1];
}

/** True when `answer` is right for `task`. */
export function isCorrect(answer: string, task: Pick<QaTask, "answer" | "check">): boolean {
  switch (task.check) {
    case "exact":
      return normalise(answer) === normalise(task.answer);
    case "number": {
      const got = lastNumber(answer);
      const want = Number(task.answer);
      return got !== undefined && Number.isFinite(want) && Math.abs(got - want) < 1e-9;
    }
    case "choice":
      return firstChoice(answer) === task.answer.trim().toUpperCase();
    case "contains": {
      const want = normalise(task.answer);
      return want.length > 0 && ` ${normalise(answer)} `.includes(` ${want} `);
    }
  }
}
