import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY_ENV, EndpointChatModel, completionsUrl, publicEndpoint } from "../src/chat/endpoint.js";
import { ChatError, UsageError } from "../src/errors.js";
import { closedPort, completion, startChatServer, type ChatServer } from "./helpers/chat-server.js";

const KEY = "sk-test-secret-0123456789";
const messages = [
  { role: "system" as const, content: "Rewrite succinctly." },
  { role: "user" as const, content: "route:ok" },
];

/** The error a promise rejects with (the test fails if it resolves). */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the call to fail");
}

describe("chat-completions endpoint client", () => {
  let server: ChatServer;
  beforeAll(async () => {
    // The user message picks the behaviour, so one server covers every case.
    server = await startChatServer((req) => {
      const route = req.body.messages?.at(-1)?.content ?? "";
      switch (route) {
        case "route:ok":
          return "  A short rewrite.  ";
        case "route:length":
          return { body: completion("cut", { finish_reason: "length" }) };
        case "route:slow":
          return { delayMs: 3000, body: completion("late") };
        case "route:500":
          return { status: 500, body: { error: { message: "model overloaded" } } };
        case "route:401":
          return { status: 401, body: { error: { message: `invalid key ${req.headers.authorization ?? ""}` } } };
        case "route:empty":
          return { body: completion("   ") };
        case "route:null":
          return { body: completion(null) };
        case "route:refusal":
          return { body: completion(null, { refusal: "I can't help with that." }) };
        case "route:filter":
          return { body: completion("", { finish_reason: "content_filter" }) };
        case "route:notjson":
          return { raw: "<html>proxy error</html>" };
        case "route:nochoices":
          return { body: { object: "chat.completion", choices: [] } };
        case "route:redirect":
          return { status: 302, body: {} };
        default:
          return `echo ${route}`;
      }
    });
  });
  afterAll(() => server.close());

  const client = (opts: { timeoutMs?: number; key?: string } = {}) =>
    new EndpointChatModel({ url: server.url, model: "test-model", timeoutMs: opts.timeoutMs ?? 2000, env: opts.key ? { [API_KEY_ENV]: opts.key } : {} });

  it("sends a greedy chat-completions request and returns the trimmed reply", async () => {
    const before = server.requests.length;
    const reply = await client({ key: KEY }).complete(messages, { maxTokens: 77 });
    expect(reply).toEqual({ text: "A short rewrite.", finish: "stop" });
    const seen = server.requests[before];
    expect(seen?.path).toBe("/v1/chat/completions");
    expect(seen?.body.model).toBe("test-model");
    expect(seen?.body.temperature).toBe(0);
    expect(seen?.body.max_tokens).toBe(77);
    expect(seen?.body.messages).toEqual(messages);
    expect(seen?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it("sends no Authorization header without a key, and reports cut replies", async () => {
    const before = server.requests.length;
    const reply = await client().complete([{ role: "user", content: "route:length" }]);
    expect(reply.finish).toBe("length");
    expect(server.requests[before]?.headers.authorization).toBeUndefined();
  });

  it("names the identity by model, host and path, never by key or query", () => {
    const m = new EndpointChatModel({ url: "https://user:pw@api.example.com/v1?token=abc", model: "m1", env: { [API_KEY_ENV]: KEY } });
    expect(m.identity).toBe("api:m1@api.example.com/v1");
    expect(m.identity).not.toContain(KEY);
    expect(publicEndpoint(completionsUrl("http://h:1/x/chat/completions"))).toBe("h:1/x");
    expect(completionsUrl("http://h:1/v1/").pathname).toBe("/v1/chat/completions");
    expect(() => completionsUrl("ftp://h/v1")).toThrow(UsageError);
    expect(() => completionsUrl("not a url")).toThrow(UsageError);
  });

  it("fails clearly when the endpoint is down", async () => {
    const port = await closedPort();
    const down = new EndpointChatModel({ url: `http://127.0.0.1:${port}/v1`, model: "m", timeoutMs: 2000, env: {} });
    const e = await failure(down.complete(messages));
    expect(e).toBeInstanceOf(ChatError);
    expect(e.message).toMatch(/cannot connect: connection refused/);
    expect(e.message).toContain(`127.0.0.1:${port}/v1`);
  });

  it("times out with a clear error", async () => {
    const t0 = performance.now();
    const e = await failure(client({ timeoutMs: 300 }).complete([{ role: "user", content: "route:slow" }]));
    expect(e).toBeInstanceOf(ChatError);
    expect(e.message).toMatch(/no answer within 0\.3 s \(timeout\)/);
    expect(performance.now() - t0).toBeLessThan(2500);
  });

  it("reports HTTP errors with the server's message and never prints the key", async () => {
    const e500 = await failure(client().complete([{ role: "user", content: "route:500" }]));
    expect(e500.message).toMatch(/HTTP 500 Internal Server Error: model overloaded/);
    const e401 = await failure(client({ key: KEY }).complete([{ role: "user", content: "route:401" }]));
    expect(e401.message).toMatch(/HTTP 401/);
    expect(e401.message).toMatch(/LLMZIP_API_KEY/);
    expect(e401.message).not.toContain(KEY);
    const e302 = await failure(client().complete([{ role: "user", content: "route:redirect" }]));
    expect(e302.message).toMatch(/HTTP 302/);
  });

  it("rejects empty, refused, filtered and malformed answers", async () => {
    const cases: [string, RegExp][] = [
      ["route:empty", /empty answer/],
      ["route:null", /empty answer/],
      ["route:refusal", /refused: I can't help with that\./],
      ["route:filter", /content filter/],
      ["route:notjson", /not JSON/],
      ["route:nochoices", /no choices/],
    ];
    for (const [route, message] of cases) {
      const e = await failure(client().complete([{ role: "user", content: route }]));
      expect(e).toBeInstanceOf(ChatError);
      expect(e.message).toMatch(message);
    }
  });

  it("stops at once when the caller aborts", async () => {
    const controller = new AbortController();
    const pending = client({ timeoutMs: 5000 }).complete([{ role: "user", content: "route:slow" }], { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const e = await failure(pending);
    expect(e.name).toBe("CancelledError");
  });
});
