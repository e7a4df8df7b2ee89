/**
 * The question-asking protocol's message (docs/FORMAT.md, "QA messages"):
 * a small fixed header naming what the decoder needs to replay the small
 * model (its fingerprint, the task, the prompts, the protocol version, N),
 * a checksum of the final answer, then the N answers: plain, one bit each,
 * or arithmetic-coded with the small model's own P(yes).
 */
import { ByteReader, ByteWriter } from "../container/bytes.js";
import { CorruptArchiveError, UnsupportedFormatError } from "../errors.js";

export const QA_MAGIC = Uint8Array.from([0x4c, 0x4c, 0x4d, 0x51]); // "LLMQ"
export const QA_PROTOCOL_VERSION = 1;
/** Bytes of each sha256 kept: 64 bits tell models, tasks and prompts apart. */
export const FINGERPRINT_BYTES = 8;
const FLAG_ARITHMETIC = 1;
const BACKENDS = ["cpu", "cuda", "vulkan"] as const;
export type QaBackend = (typeof BACKENDS)[number];

export interface QaHeader {
  version: number;
  /** Answers coded with the small model's P(yes) instead of one bit each. */
  arithmetic: boolean;
  /** Where the small model ran: its logits, and so its questions, depend on it. */
  backend: QaBackend;
  questions: number;
  smallModel: Uint8Array;
  task: Uint8Array;
  prompts: Uint8Array;
  /** CRC-32 of the final answer's UTF-8 bytes: decode checks that its replay arrived at the same answer. */
  finalCrc32: number;
}

export interface QaMessage {
  header: QaHeader;
  /** The coded answers (plain: ⌈N/8⌉ bytes, bit i of the answers is bit 7 - i%8 of byte ⌊i/8⌋). */
  payload: Uint8Array;
}

/** Header length for N questions (the varint of N grows with N). */
export function headerLength(questions: number): number {
  return writeHeader({ version: QA_PROTOCOL_VERSION, arithmetic: false, backend: "cpu", questions, smallModel: new Uint8Array(8), task: new Uint8Array(8), prompts: new Uint8Array(8), finalCrc32: 0 }).length;
}

function writeHeader(h: QaHeader): Uint8Array {
  for (const [what, b] of [["small model", h.smallModel], ["task", h.task], ["prompts", h.prompts]] as const) {
    if (b.length !== FINGERPRINT_BYTES) throw new RangeError(`${what} fingerprint must be ${FINGERPRINT_BYTES} bytes`);
  }
  return new ByteWriter()
    .bytes(QA_MAGIC)
    .u8(h.version)
    .u8(h.arithmetic ? FLAG_ARITHMETIC : 0)
    .u8(BACKENDS.indexOf(h.backend))
    .varint(h.questions)
    .bytes(h.smallModel)
    .bytes(h.task)
    .bytes(h.prompts)
    .u32(h.finalCrc32)
    .finish();
}

/** Answers as plain bits. */
export function packBits(bits: readonly boolean[]): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((b, i) => {
    if (b) out[i >> 3] = (out[i >> 3] as number) | (0x80 >> (i & 7));
  });
  return out;
}

export function unpackBits(bytes: Uint8Array, n: number): boolean[] {
  if (bytes.length !== Math.ceil(n / 8)) throw new CorruptArchiveError(`QA message is corrupt: ${n} plain answers need ${Math.ceil(n / 8)} bytes, found ${bytes.length}`);
  const bits = Array.from({ length: n }, (_, i) => (((bytes[i >> 3] as number) >> (7 - (i & 7))) & 1) === 1);
  const used = packBits(bits);
  if (used.some((b, i) => b !== bytes[i])) throw new CorruptArchiveError("QA message is corrupt: padding bits are set");
  return bits;
}

export function serializeMessage(m: QaMessage): Uint8Array {
  const head = writeHeader(m.header);
  const out = new Uint8Array(head.length + m.payload.length);
  out.set(head, 0);
  out.set(m.payload, head.length);
  return out;
}

export function parseMessage(bytes: Uint8Array): QaMessage {
  if (bytes.length < QA_MAGIC.length || QA_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new CorruptArchiveError("not an llmzip QA message (it does not start with LLMQ)");
  }
  const r = new ByteReader(bytes);
  r.pos = QA_MAGIC.length;
  const version = r.u8("protocol version");
  if (version > QA_PROTOCOL_VERSION) throw new UnsupportedFormatError(`QA protocol ${version} is newer than this llmzip knows (${QA_PROTOCOL_VERSION}); upgrade llmzip`);
  if (version === 0) throw new CorruptArchiveError("QA message is corrupt (protocol version 0)");
  const flags = r.u8("flags");
  if ((flags & ~FLAG_ARITHMETIC) !== 0) throw new UnsupportedFormatError("QA message uses features this llmzip does not know; upgrade llmzip");
  const backend = BACKENDS[r.u8("backend")];
  if (!backend) throw new CorruptArchiveError("QA message is corrupt (unknown backend)");
  const header: QaHeader = {
    version,
    arithmetic: (flags & FLAG_ARITHMETIC) !== 0,
    backend,
    questions: r.varint("question count", 1 << 20),
    smallModel: r.bytes(FINGERPRINT_BYTES, "small model fingerprint").slice(),
    task: r.bytes(FINGERPRINT_BYTES, "task fingerprint").slice(),
    prompts: r.bytes(FINGERPRINT_BYTES, "prompt fingerprint").slice(),
    finalCrc32: r.u32("answer checksum"),
  };
  return { header, payload: bytes.slice(r.pos) };
}
