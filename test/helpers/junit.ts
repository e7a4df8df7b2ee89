import fs from "node:fs";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { validateXML } from "xmllint-wasm";
import { repoRoot } from "./shared.js";

const schema = fs.readFileSync(path.join(repoRoot, "test", "fixtures", "junit.xsd"), "utf8");

/** A testcase as the parser gives it back, reduced to what the tests compare. */
export interface ParsedCase {
  suite: string;
  name: string;
  classname: string;
  outcome: "passed" | "failure" | "skipped";
  message?: string;
}

export interface ParsedJunit {
  counts: { tests: number; failures: number; errors: number; skipped: number };
  cases: ParsedCase[];
}

/**
 * Validates JUnit XML against the schema with libxml2 (xmllint-wasm) and
 * parses it with fast-xml-parser; throws with libxml2's messages when the
 * document is not well-formed or not valid.
 */
export async function checkJunit(xml: string): Promise<ParsedJunit> {
  const wellFormed = XMLValidator.validate(xml);
  if (wellFormed !== true) throw new Error(`not well-formed XML: ${wellFormed.err.msg} (line ${wellFormed.err.line})`);
  const result = await validateXML({ xml: [{ fileName: "junit.xml", contents: xml }], schema: [{ fileName: "junit.xsd", contents: schema }] });
  if (!result.valid) throw new Error(`JUnit XML fails the schema: ${result.errors.map((e) => e.rawMessage).join("; ")}`);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (name) => name === "testsuite" || name === "testcase" || name === "property" }).parse(xml);
  const root = doc.testsuites;
  const cases: ParsedCase[] = [];
  for (const s of root.testsuite ?? []) {
    for (const c of s.testcase ?? []) {
      const outcome = c.failure !== undefined ? "failure" : c.skipped !== undefined ? "skipped" : "passed";
      const message = c.failure?.message ?? c.skipped?.message;
      cases.push({ suite: s.name, name: String(c.name), classname: c.classname, outcome, ...(message !== undefined ? { message } : {}) });
    }
  }
  return { counts: { tests: Number(root.tests), failures: Number(root.failures), errors: Number(root.errors), skipped: Number(root.skipped) }, cases };
}
