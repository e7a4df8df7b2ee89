import http from "node:http";
import type { AddressInfo } from "node:net";

export interface LoggedRequest {
  path: string;
  range?: string;
  ifRange?: string;
  userAgent?: string;
}

/**
 * A real HTTP server on 127.0.0.1 for download tests, with knobs for the
 * failures a model hub can show: a connection cut mid-file, a server that
 * ignores Range, one that never answers, redirects, wrong content.
 */
export class FileServer {
  readonly requests: LoggedRequest[] = [];
  readonly files = new Map<string, Buffer>();
  readonly redirects = new Map<string, string>();
  /** Cut the connection after this many body bytes, for the next `cuts` responses. */
  cutAfter = 0;
  cuts = 0;
  /** Answer Range requests with the whole file (200). */
  ignoreRange = false;
  /** Accept requests but never answer them. */
  stallHeaders = false;
  /** Send this many body bytes, then go silent (connection stays open). */
  stallBodyAfter: number | undefined;
  etag = '"v1"';

  private constructor(
    private readonly server: http.Server,
    readonly base: string,
  ) {}

  static async start(): Promise<FileServer> {
    let self: FileServer | undefined;
    const server = http.createServer((req, res) => self?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    self = new FileServer(server, `http://127.0.0.1:${port}`);
    return self;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = decodeURIComponent(new URL(req.url ?? "/", this.base).pathname);
    const range = req.headers.range;
    this.requests.push({ path, range, ifRange: req.headers["if-range"] as string | undefined, userAgent: req.headers["user-agent"] });
    if (this.stallHeaders) return;
    const to = this.redirects.get(path);
    if (to) {
      res.writeHead(302, { location: to }).end();
      return;
    }
    const data = this.files.get(path);
    if (!data) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(range ?? "");
    if (m && !this.ignoreRange) {
      start = Number(m[1]);
      if (start >= data.length) {
        res.writeHead(416, { "content-range": `bytes */${data.length}` }).end();
        return;
      }
      res.writeHead(206, { "content-length": data.length - start, "content-range": `bytes ${start}-${data.length - 1}/${data.length}`, etag: this.etag, "accept-ranges": "bytes" });
    } else {
      res.writeHead(200, { "content-length": data.length, etag: this.etag, "accept-ranges": "bytes" });
    }
    const body = data.subarray(start);
    if (this.stallBodyAfter !== undefined) {
      res.write(body.subarray(0, this.stallBodyAfter));
      return;
    }
    if (this.cuts > 0 && this.cutAfter < body.length) {
      this.cuts--;
      // end() (not destroy()) so that exactly cutAfter bytes arrive before the connection closes.
      res.write(body.subarray(0, this.cutAfter), () => res.socket?.end());
      return;
    }
    res.end(body);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
