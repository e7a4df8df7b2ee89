import http from "node:http";
import type { AddressInfo } from "node:net";

/** One chat-completions request as the server saw it. */
export interface SeenRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: { model?: string; messages?: { role: string; content: string }[]; temperature?: number; max_tokens?: number };
}

/** What the handler wants sent back: a reply text, or full control over status and body. */
export type ServerAnswer = string | { status?: number; body?: unknown; raw?: string; delayMs?: number };

export interface ChatServer {
  /** Base URL, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** A chat-completions response carrying `content`. */
export function completion(content: unknown, extra: { finish_reason?: string; refusal?: string } = {}): unknown {
  return {
    id: "chatcmpl-test",
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content, ...(extra.refusal ? { refusal: extra.refusal } : {}) }, finish_reason: extra.finish_reason ?? "stop" }],
  };
}

/**
 * A real HTTP server on 127.0.0.1 that speaks the chat-completions protocol,
 * answering deterministically with `handler`.
 */
export async function startChatServer(handler: (req: SeenRequest) => ServerAnswer): Promise<ChatServer> {
  const requests: SeenRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      let body: SeenRequest["body"] = {};
      try {
        body = JSON.parse(Buffer.concat(parts).toString("utf8")) as SeenRequest["body"];
      } catch {
        /* the client under test always sends JSON; an empty body stays {} */
      }
      const seen: SeenRequest = { path: req.url ?? "", headers: req.headers, body };
      requests.push(seen);
      const answer = handler(seen);
      const send = () => {
        if (typeof answer === "string") {
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(completion(answer)));
          return;
        }
        const payload = answer.raw ?? JSON.stringify(answer.body ?? {});
        res.writeHead(answer.status ?? 200, { "content-type": "application/json" }).end(payload);
      };
      if (typeof answer !== "string" && answer.delayMs) {
        const t = setTimeout(() => {
          timers.delete(t);
          if (!res.destroyed) send();
        }, answer.delayMs);
        timers.add(t);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
