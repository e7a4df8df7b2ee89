/** The ground floor (src/util): byte helpers and atomic writes, without any model. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { FileError } from "../src/errors.js";
import { crc32, formatApproxBytes, formatBytes, formatMegabytes, groupDigits, hex, sameBytes, shortHex } from "../src/util/bytes.js";
import { describeFsError, fileSize, readInput, writeAtomic } from "../src/util/fs.js";

describe("util/bytes", () => {
  it("crc32 is zlib's, unsigned", () => {
    const data = Buffer.from("hello, world");
    expect(crc32(data)).toBe(zlib.crc32(data) >>> 0);
    expect(crc32(Uint8Array.from([0xff, 0xff, 0xff, 0xff]))).toBeGreaterThan(0);
  });

  it("hex and shortHex see only the view's bytes", () => {
    const buf = Uint8Array.from([0, 1, 0xab, 0xcd, 0xef, 2]);
    expect(hex(buf.subarray(2, 5))).toBe("abcdef");
    expect(shortHex(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe("000102030405…");
  });

  it("sameBytes compares contents of views", () => {
    const a = Uint8Array.from([1, 2, 3, 4]);
    expect(sameBytes(a.subarray(1, 3), Uint8Array.from([2, 3]))).toBe(true);
    expect(sameBytes(a, Uint8Array.from([1, 2, 3]))).toBe(false);
    expect(sameBytes(new Uint8Array(0), Buffer.alloc(0))).toBe(true);
  });

  it("formats sizes and counts", () => {
    expect(groupDigits(1234567)).toBe("1,234,567");
    expect(groupDigits(1234.5, 1)).toBe("1,234.5");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1500)).toBe("1.5 kB");
    expect(formatBytes(145e6)).toBe("145.0 MB");
    expect(formatBytes(1.32e9)).toBe("1.32 GB");
    expect(formatMegabytes(379200)).toBe("0.4 MB");
    expect(formatApproxBytes(145e6)).toBe("145 MB");
    expect(formatApproxBytes(4.68e9)).toBe("4.68 GB");
  });
});

describe("util/fs", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "llmzip-util-"));

  it("writeAtomic writes whole files, refuses to overwrite without force, leaves no temp file", () => {
    const target = path.join(dir, "a.bin");
    writeAtomic(target, Uint8Array.from([1, 2, 3]), { force: false });
    expect(() => writeAtomic(target, "x", { force: false })).toThrow(/already exists/);
    writeAtomic(target, "text", { force: true });
    expect(fs.readFileSync(target, "utf8")).toBe("text");
    expect(fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("reports fs errors in words, as FileError", () => {
    expect(() => writeAtomic(path.join(dir, "missing", "x"), "x", { force: true })).toThrow(/cannot write: no such file or directory/);
    expect(() => readInput(dir)).toThrow(FileError);
    expect(describeFsError(Object.assign(new Error("x"), { code: "ENOSPC" }))).toBe("no space left on device");
    expect(fileSize(dir)).toBeUndefined();
    expect(fileSize(path.join(dir, "a.bin"))).toBe(4);
  });
});
