/**
 * Typed errors. Every failure the user can cause or meet is one of these; the
 * CLI prints `llmzip: <message>` and exits with {@link LlmzipError.exitCode}.
 * Anything else reaching the top level is a bug and is reported as such.
 */
export class LlmzipError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  override readonly name: string = "LlmzipError";
}

/** Bad command-line usage (unknown flag, conflicting options): exit code 2. */
export class UsageError extends LlmzipError {
  override readonly exitCode = 2;
  override readonly name = "UsageError";
}

/** The input is not an llmzip archive, is truncated, or fails a checksum. */
export class CorruptArchiveError extends LlmzipError {
  override readonly name = "CorruptArchiveError";
}

/** The archive was written by a newer llmzip or uses an unknown feature. */
export class UnsupportedFormatError extends LlmzipError {
  override readonly name = "UnsupportedFormatError";
}

/** The model, adapter or coding settings differ from what the archive needs. */
export class MismatchError extends LlmzipError {
  override readonly name = "MismatchError";
}

/** No model was given or found, or it failed to load. */
export class ModelError extends LlmzipError {
  override readonly name = "ModelError";
}

/** The run was interrupted (SIGINT/SIGTERM or an AbortSignal). */
export class CancelledError extends LlmzipError {
  override readonly name = "CancelledError";
}

/** Reading or writing a file failed (missing, not writable, disk full...). */
export class FileError extends LlmzipError {
  override readonly name = "FileError";
}

/**
 * A chat model (lossy rewriter, question-asking partner) failed: endpoint
 * down, timeout, HTTP error, a reply that is empty, refused or malformed.
 */
export class ChatError extends LlmzipError {
  override readonly name = "ChatError";
}

/** A download failed: host unreachable, HTTP error, connection lost for good, or a checksum mismatch. */
export class DownloadError extends LlmzipError {
  override readonly name = "DownloadError";
}
