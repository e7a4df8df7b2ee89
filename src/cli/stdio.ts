/** Standard input and output for commands: the CLI owns stdio, the library never touches it. */
import { FileError } from "../errors.js";
import { describeFsError } from "../util/fs.js";

/** All of standard input. */
export async function readStdin(): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of process.stdin) parts.push(piece as Buffer);
  return Buffer.concat(parts);
}

/** Writes to stdout and waits until it drained (errors such as EPIPE or ENOSPC become FileError). */
export function writeStdout(data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    // The stream reports a failed write both to the callback and as an
    // 'error' event; without a listener the event would crash the process.
    const onError = (err: Error) => reject(new FileError(`cannot write to standard output: ${describeFsError(err)}`));
    process.stdout.once("error", onError);
    process.stdout.write(data, (err) => {
      if (err) return onError(err);
      process.stdout.off("error", onError);
      resolve();
    });
  });
}
