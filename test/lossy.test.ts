import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EndpointChatModel } from "../src/chat/endpoint.js";
import { LocalChatModel } from "../src/chat/local.js";
import { compress } from "../src/codec/compress.js";
import { decompress } from "../src/codec/decompress.js";
import { parseArchive } from "../src/container/format.js";
import { LlamaEngine } from "../src/engine/engine.js";
import { ChatError, MismatchError, UsageError } from "../src/errors.js";
import { lossyInfo, shortSha256 } from "../src/lossy/archive.js";
import { compressLossy } from "../src/lossy/compress.js";
import { informationOfArchive } from "../src/lossy/evaluate.js";
import { measureInformation } from "../src/lossy/information.js";
import { DEFAULT_REWRITE_PROMPT } from "../src/lossy/prompt.js";
import type { BenchReport } from "../src/bench/report.js";
import { startChatServer, closedPort, completion, type ChatServer } from "./helpers/chat-server.js";
import { llmzipAsync, tempDir } from "./helpers/cli.js";
import { modelPath, repoRoot } from "./helpers/shared.js";

const MODEL = modelPath("stories260K.gguf");
const STORY = fs.readFileSync(path.join(repoRoot, "fixtures", "samples", "story.txt"));
/** A longer input: the story three times, so that small section budgets give several sections. */
const LONG = Buffer.concat([STORY, Buffer.from("\n"), STORY, Buffer.from("\n"), STORY]);

/** The loopback rewriter's deterministic "rewrite": the first sentence of the section, upper-cased. */
function fakeRewrite(section: string): string {
  const first = section.trim().split(/(?<=[.!?])\s/)[0] ?? "";
  return first.toUpperCase();
}

describe("lossy mode", () => {
  let server: ChatServer;
  let engine: LlamaEngine;
  beforeAll(async () => {
    // The requested model name picks the behaviour, so that CLI runs can choose it too.
    server = await startChatServer((req) => {
      const user = req.body.messages?.filter((m) => m.role === "user").at(-1)?.content ?? "";
      switch (req.body.model) {
        case "empty":
          return { body: completion("") };
        case "refuse":
          return "I'm sorry, but I can't help with that.";
        case "slow":
          return { delayMs: 5000, body: completion("late") };
        case "broken":
          return { status: 503, body: { error: { message: "no capacity" } } };
        case "echo-auth":
          return { status: 401, body: { error: { message: `bad key: ${req.headers.authorization ?? ""}` } } };
        default:
          return fakeRewrite(user);
      }
    });
    engine = LlamaEngine.open(MODEL, { gpu: "off", threads: 1 });
  });
  afterAll(async () => {
    engine.close();
    await server.close();
  });

  const endpoint = (model = "rewriter", timeoutMs = 2000) => new EndpointChatModel({ url: server.url, model, timeoutMs, env: {} });

  it("rewrites section by section and decompresses to exactly the rewrite", async () => {
    const before = server.requests.length;
    const r = await compressLossy(LONG, { model: MODEL, engine, rewriter: endpoint(), sectionTokens: 120 });
    const seen = server.requests.slice(before);
    expect(r.lossy.sections).toBeGreaterThan(2);
    expect(seen).toHaveLength(r.lossy.sections);
    // Every section went out as the user message under the built-in system prompt, and together they are the input.
    const sections = seen.map((q) => q.body.messages?.[1]?.content ?? "");
    expect(seen.every((q) => q.body.messages?.[0]?.content === DEFAULT_REWRITE_PROMPT)).toBe(true);
    expect(sections.join("").replace(/\s+/g, " ").trim()).toBe(LONG.toString("utf8").replace(/\s+/g, " ").trim());
    const expected = `${sections.map(fakeRewrite).join("\n\n")}\n`;
    expect(Buffer.from(r.rewrite).toString("utf8")).toBe(expected);

    const back = await decompress(r.archive, { engine });
    expect(Buffer.compare(Buffer.from(back.data), Buffer.from(expected))).toBe(0);
    expect(back.header.mode).toBe("lossy");
    const info = lossyInfo(back.header);
    expect(info).toEqual({
      method: "rewrite",
      originalBytes: LONG.length,
      rewriteBytes: Buffer.byteLength(expected),
      rewriter: `api:rewriter@${server.url.replace("http://", "")}`,
      promptSha256: shortSha256(DEFAULT_REWRITE_PROMPT),
      originalSha256: shortSha256(LONG),
      sections: r.lossy.sections,
    });
    expect(r.stats.originalBytes).toBe(LONG.length);
    expect(r.archive.length).toBeLessThan(LONG.length / 2);
  });

  it("uses a replacement prompt, recording its hash", async () => {
    const prompt = { text: "Shorten this:\n{{text}}", source: "test" };
    const before = server.requests.length;
    const r = await compressLossy(STORY, { model: MODEL, engine, rewriter: endpoint(), prompt });
    const first = server.requests[before];
    expect(first?.body.messages).toHaveLength(1);
    expect(first?.body.messages?.[0]?.content.startsWith("Shorten this:\n")).toBe(true);
    expect(lossyInfo(parseArchive(r.archive).header)?.promptSha256).toBe(shortSha256(prompt.text));
  });

  it("fails with a clear error, coding nothing, when the rewriter fails or refuses", async () => {
    const cases: [EndpointChatModel, RegExp][] = [
      [endpoint("empty"), /rewriting failed.*empty answer; nothing was written/],
      [endpoint("refuse"), /rewriting failed.*refused: "I'm sorry/],
      [endpoint("broken"), /rewriting failed.*HTTP 503.*no capacity/],
      [endpoint("slow", 200), /rewriting failed.*timeout/],
      [new EndpointChatModel({ url: `http://127.0.0.1:${await closedPort()}/v1`, model: "m", env: {} }), /connection refused/],
    ];
    for (const [rewriter, message] of cases) {
      await expect(compressLossy(STORY, { model: MODEL, engine, rewriter })).rejects.toThrow(ChatError);
      await expect(compressLossy(STORY, { model: MODEL, engine, rewriter })).rejects.toThrow(message);
    }
  });

  it("refuses binary and non-UTF-8 input instead of rewriting it", async () => {
    await expect(compressLossy(Buffer.from([0, 1, 2, 3, 0, 5]), { model: MODEL, engine, rewriter: endpoint() })).rejects.toThrow(UsageError);
    await expect(compressLossy(Buffer.from([0x41, 0xff, 0x42, 0x0a]), { model: MODEL, engine, rewriter: endpoint() })).rejects.toThrow(/not valid UTF-8/);
  });

  it("an empty input gives an empty rewrite without asking the rewriter", async () => {
    const before = server.requests.length;
    const r = await compressLossy(Buffer.alloc(0), { model: MODEL, engine, rewriter: endpoint() });
    expect(server.requests.length).toBe(before);
    const back = await decompress(r.archive, { engine });
    expect(back.data.length).toBe(0);
    expect(lossyInfo(back.header)?.originalBytes).toBe(0);
  });

  it("with a local GGUF rewriter: the same input gives the same rewrite and archive twice", async () => {
    const rewriter = await LocalChatModel.open(MODEL, { threads: 1 });
    try {
      const a = await compressLossy(STORY, { model: MODEL, engine, rewriter });
      const b = await compressLossy(STORY, { model: MODEL, engine, rewriter });
      expect(Buffer.compare(Buffer.from(a.rewrite), Buffer.from(b.rewrite))).toBe(0);
      expect(Buffer.compare(Buffer.from(a.archive), Buffer.from(b.archive))).toBe(0);
      expect(a.lossy.rewriter).toBe("gguf:stories260K.gguf#659643879ac60198");
      const back = await decompress(a.archive, { engine });
      expect(Buffer.compare(Buffer.from(back.data), Buffer.from(a.rewrite))).toBe(0);
    } finally {
      await rewriter.close();
    }
  });

  describe("information kept", () => {
    const original = Buffer.from("Once upon a time, Zorblax the frog met Quimby the owl at the Flumph tree. Zorblax said hello to Quimby.\n");

    it("is zero for an empty rewrite and grows with what the rewrite says", async () => {
      const none = await measureInformation(original, Buffer.alloc(0), { engine });
      expect(none.bitsAlone).toBeGreaterThan(100);
      expect(none.informationBits).toBe(0);
      const names = await measureInformation(original, Buffer.from("Zorblax the frog met Quimby the owl at the Flumph tree."), { engine });
      const vague = await measureInformation(original, Buffer.from("A frog met an owl."), { engine });
      expect(names.bitsAlone).toBe(none.bitsAlone);
      expect(names.informationBits).toBeCloseTo(names.bitsAlone - names.bitsGivenRewrite, 9);
      expect(names.informationBits).toBeGreaterThan(vague.informationBits + 5);
      expect(names.wholeRewrite).toBe(true);
      expect(names.bitsPerRewriteToken).toBeCloseTo(names.informationBits / names.rewriteTokens, 9);
    });

    it("gives long inputs a window of the rewrite that fits the lane context", async () => {
      const rewrite = Buffer.from(STORY.toString("utf8").split("\n").filter(Boolean).map((l) => l.split(" ").slice(0, 6).join(" ")).join("\n"));
      const r = await measureInformation(LONG, rewrite, { engine, ctx: 96 });
      expect(r.wholeRewrite).toBe(false);
      expect(r.contextTokens).toBe(48 - engine.tokenize(Buffer.from("\n\n")).length);
      expect(r.chunks).toBeGreaterThan(10);
      // Pieces are tokenized on their own, so their boundaries may cost a token or two each.
      const whole = engine.tokenize(LONG).length;
      expect(r.originalTokens).toBeGreaterThanOrEqual(whole);
      expect(r.originalTokens).toBeLessThanOrEqual(whole + 2 * r.chunks);
      expect(r.measuredBytes).toBe(LONG.length);
    });

    it("measures an archive only against its own original", async () => {
      const r = await compressLossy(STORY, { model: MODEL, engine, rewriter: endpoint() });
      const m = await informationOfArchive(r.archive, STORY, { engine });
      const direct = await measureInformation(STORY, r.rewrite, { engine, ctx: parseArchive(r.archive).header.settings?.ctx });
      expect(m.informationBits).toBe(direct.informationBits);
      expect(m.compressedBits).toBe(r.archive.length * 8);
      await expect(informationOfArchive(r.archive, LONG, { engine })).rejects.toThrow(MismatchError);
      const lossless = (await compress(STORY, { model: MODEL, engine })).archive;
      await expect(informationOfArchive(lossless, STORY, { engine })).rejects.toThrow(/for lossy archives/);
    });
  });

  describe("command line", () => {
    const dir = tempDir("llmzip-lossy-");
    const input = path.join(dir, "story.txt");
    fs.writeFileSync(input, LONG);
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const base = (model = "rewriter") => ["compress", "--lossy", "--rewriter-url", server.url, "--rewriter-model", model, "-m", MODEL, "--threads", "1"];

    it("bench --lossy: round trip against the rewrite, and the information kept, as info --original measures it", async () => {
      const b = await llmzipAsync(["bench", "--lossy", "--rewriter-url", server.url, "--rewriter-model", "rewriter", "-m", MODEL, "--threads", "1", "--baselines", "gzip", "--json", input]);
      expect(b.stderr).toBe("");
      expect(b.status).toBe(0);
      const report = JSON.parse(b.stdout) as BenchReport;
      expect(report.settings.lossy?.rewriter).toMatch(/^api:rewriter@127\.0\.0\.1/);
      const [f] = report.files;
      const l = f?.llmzip.lossy;
      expect(f?.llmzip.roundTrip).toBe(true);
      expect(f?.bytes).toBe(LONG.length);
      const r = await compressLossy(LONG, { model: MODEL, engine, rewriter: endpoint() });
      expect(f?.llmzip.bytes).toBe(r.archive.length);
      expect(l?.rewriteBytes).toBe(r.rewrite.length);
      const m = await informationOfArchive(r.archive, LONG, { engine });
      expect(l?.bitsAlone).toBeCloseTo(m.bitsAlone, 6);
      expect(l?.bitsGivenRewrite).toBeCloseTo(m.bitsGivenRewrite, 6);
      expect(l?.informationBits).toBeCloseTo(m.bitsAlone - m.bitsGivenRewrite, 6);
      expect(l?.compressedBits).toBe(r.archive.length * 8);
      expect(report.totals.llmzip.lossy?.informationBits).toBeCloseTo(l?.informationBits ?? NaN, 6);
      // The table shows the same measures.
      const t = await llmzipAsync(["bench", "--lossy", "--rewriter-url", server.url, "--rewriter-model", "rewriter", "-m", MODEL, "--threads", "1", "--baselines", "none", input]);
      expect(t.status).toBe(0);
      expect(t.stdout).toMatch(/lossy \(rewriter api:rewriter@/);
      expect(t.stdout).toMatch(/information/);
      // A rewriter that fails fails the run, with one line.
      const bad = await llmzipAsync(["bench", "--lossy", "--rewriter-url", server.url, "--rewriter-model", "broken", "-m", MODEL, "--threads", "1", "--baselines", "none", input]);
      expect(bad.status).toBe(1);
      expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    });

    it("compress --lossy, decompress, info and info --original", async () => {
      const c = await llmzipAsync([...base(), input]);
      expect(c.stderr).toBe("");
      expect(c.status).toBe(0);
      const archive = `${input}.llmz`;
      const d = await llmzipAsync(["decompress", "-m", MODEL, "--threads", "1", "-c", archive]);
      expect(d.status).toBe(0);
      const rewrite = d.stdout;
      expect(rewrite).toMatch(/^ONCE UPON A TIME/);
      expect(rewrite.length).toBeLessThan(LONG.length / 3);
      expect(d.stderr).toMatch(/story\.txt\.llmz is lossy: the output is the [\d,]+-byte rewrite of a [\d,]+-byte original \(rewriter api:rewriter@127\.0\.0\.1:\d+\/v1\), not the original/);
      const q = await llmzipAsync(["decompress", "-q", "-m", MODEL, "--threads", "1", "-c", archive]);
      expect(q.stderr).toBe("");

      const info = await llmzipAsync(["info", archive]);
      const text = info.stdout;
      expect(text).toMatch(new RegExp(`original +${LONG.length.toLocaleString("en-US")} bytes \\(not stored`));
      expect(text).toMatch(new RegExp(`rewrite +${Buffer.byteLength(rewrite).toLocaleString("en-US")} bytes`));
      expect(text).toMatch(new RegExp(`compressed +${fs.statSync(archive).size.toLocaleString("en-US")} bytes`));
      expect(text).toMatch(/rewriter +api:rewriter@127\.0\.0\.1/);
      expect(text).not.toMatch(/lossy\.sha256/);

      const json = await llmzipAsync(["info", "--json", "--original", input, "-m", MODEL, "--threads", "1", archive]);
      expect(json.status).toBe(0);
      const doc = JSON.parse(json.stdout) as { originalBytes: number; lossy: { rewriteBytes: number }; information: { bitsAlone: number; bitsGivenRewrite: number; informationBits: number; bitsPerRewriteToken: number; compressedBits: number } };
      expect(doc.originalBytes).toBe(LONG.length);
      expect(doc.lossy.rewriteBytes).toBe(Buffer.byteLength(rewrite));
      expect(doc.information.bitsAlone).toBeGreaterThan(0);
      expect(doc.information.informationBits).toBeCloseTo(doc.information.bitsAlone - doc.information.bitsGivenRewrite, 6);
      expect(doc.information.compressedBits).toBe(fs.statSync(archive).size * 8);
      const wrong = await llmzipAsync(["info", "--original", archive, "-m", MODEL, archive]);
      expect(wrong.status).toBe(1);
      expect(wrong.stderr).toMatch(/not the file this archive was made from/);
    });

    it("a local GGUF rewriter in the compressing process leaves archives a fresh process decodes", async () => {
      const out = path.join(dir, "local.llmz");
      const c = await llmzipAsync(["compress", "--lossy", "--rewriter", MODEL, "-m", MODEL, "--threads", "1", "-o", out, input]);
      expect(c.stderr).toMatch(/^(llmzip: warning: .*cut at the rewriter's length limit\n)?$/);
      expect(c.status).toBe(0);
      const d = await llmzipAsync(["decompress", "-q", "-m", MODEL, "--threads", "1", "-c", out]);
      expect(d.stderr).toBe("");
      expect(d.status).toBe(0);
      expect(Buffer.byteLength(d.stdout)).toBe(lossyInfo(parseArchive(fs.readFileSync(out)).header)?.rewriteBytes);
    });

    it("leaves nothing behind when the rewriter is down, slow, failing or refusing", async () => {
      const out = path.join(dir, "fail.llmz");
      const port = await closedPort();
      const runs: [string[], RegExp][] = [
        [["compress", "--lossy", "--rewriter-url", `http://127.0.0.1:${port}/v1`, "--rewriter-model", "m", "-m", MODEL], /connection refused/],
        [[...base("slow"), "--rewriter-timeout", "1"], /no answer within 1\.0 s \(timeout\)/],
        [base("broken"), /HTTP 503/],
        [base("refuse"), /refused/],
        [base("empty"), /empty answer/],
      ];
      for (const [args, message] of runs) {
        const r = await llmzipAsync([...args, "-o", out, input]);
        expect(r.status).toBe(1);
        const err = r.stderr;
        expect(err).toMatch(message);
        expect(err.trim().split("\n")).toHaveLength(1);
        expect(err).toMatch(/^llmzip: /);
        expect(fs.existsSync(out)).toBe(false);
      }
      expect(fs.readdirSync(dir).filter((f) => f.includes(".tmp"))).toEqual([]);
    });

    it("never prints the API key", async () => {
      const key = "sk-very-secret-key-42";
      const r = await llmzipAsync([...base("echo-auth"), "-o", path.join(dir, "k.llmz"), input], { env: { LLMZIP_API_KEY: key } });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/HTTP 401/);
      expect(r.stderr).not.toContain(key);
      // It was sent, though: the server saw it.
      expect(server.requests.at(-1)?.headers.authorization).toBe(`Bearer ${key}`);
    });

    it("rejects incomplete or conflicting rewriter options as usage errors", async () => {
      const cases: [string[], RegExp][] = [
        [["compress", "--rewriter", MODEL, "-m", MODEL, input], /need --lossy/],
        [["compress", "--lossy", "-m", MODEL, input], /--lossy needs a method: --prune KEEP/],
        [["compress", "--lossy", "--rewriter-url", server.url, "-m", MODEL, input], /needs --rewriter-model/],
        [["compress", "--lossy", "--rewriter", MODEL, "--rewriter-url", server.url, "--rewriter-model", "x", "-m", MODEL, input], /use one/],
        [["compress", "--lossy", "--rewriter", MODEL, "--rm", "-m", MODEL, input], /would delete the only copy of the original/],
        [["compress", "--lossy", "--rewriter", MODEL, input], /model file not found: .*missing\.gguf/],
      ];
      // An empty llmzip home and an LLMZIP_MODEL that is not there: without -m the coding model
      // is missing (a runtime error, exit 1), not a usage error, and the rewriter does not stand in for it.
      const home = path.join(dir, "home");
      for (const [args, message] of cases) {
        const r = await llmzipAsync(args, { env: { LLMZIP_MODEL: path.join(dir, "missing.gguf"), LLMZIP_HOME: home } });
        expect(r.stderr).toMatch(message);
        expect(r.status).toBe(message.source.startsWith("model file not found") ? 1 : 2);
      }
    });
  });
});
