/**
 * The layer rules of llmzip (docs/ARCHITECTURE.md draws them). Floors, top
 * to bottom; a room imports only from its own floor's room or from floors
 * below it, never from a neighbour on the same floor, never upward:
 *
 *   cli                       commands: files, stdio, flags, terminal UI
 *   bench                     corpus runs, baselines, reports
 *   lossy | qa                rewrite-then-encode; question-asking protocol
 *   codec | chat              chunking, lanes, fallbacks, the coding contract; chat models
 *   models                    the model store: registry, catalog, downloads, GGUF headers
 *   engine | container        the native lane engine; the .llmz byte format
 *   util, errors.ts, version  the ground floor: helpers without policy
 *
 * src/index.ts (the library face) sits above everything but cli.
 */
const FLOORS = [["cli"], ["bench"], ["lossy", "qa"], ["codec", "chat"], ["models"], ["engine", "container"]];
const room = (name) => `^src/${name}/`;
const ground = "^src/(util/|errors\\.ts$|version\\.ts$)";

const forbidden = [
  {
    name: "no-cycles",
    comment: "An import loop makes two rooms one; break it by moving the shared piece down a floor.",
    severity: "error",
    from: {},
    to: { circular: true },
  },
  {
    name: "ground-floor-has-no-policy",
    comment: "util/, errors.ts and version.ts import nothing of llmzip's above them.",
    severity: "error",
    from: { path: ground },
    to: { path: "^src/", pathNot: ground },
  },
  {
    name: "library-face-is-not-the-cli",
    comment: "src/index.ts is the library: it never reaches the CLI (which owns files and stdio).",
    severity: "error",
    from: { path: "^src/index\\.ts$" },
    to: { path: room("cli") },
  },
  {
    name: "nothing-imports-a-library-face",
    comment: "Rooms import each other's modules directly; the index.ts files (package.json exports) are only for library users.",
    severity: "error",
    from: { path: "^src/" },
    to: { path: "^src/(index|models/index|bench/index|qa/index)\\.ts$" },
  },
];

FLOORS.forEach((floor, i) => {
  const above = FLOORS.slice(0, i).flat();
  for (const name of floor) {
    if (above.length > 0) {
      forbidden.push({
        name: `no-upward-import-from-${name}`,
        comment: `${name} may not import from a higher floor (${above.join(", ")}).`,
        severity: "error",
        from: { path: room(name) },
        to: { path: `^src/(${above.join("|")})/` },
      });
    }
    const neighbours = floor.filter((n) => n !== name);
    if (neighbours.length > 0) {
      forbidden.push({
        name: `no-sideways-import-from-${name}`,
        comment: `${name} and ${neighbours.join(", ")} share a floor and do not import each other.`,
        severity: "error",
        from: { path: room(name) },
        to: { path: `^src/(${neighbours.join("|")})/` },
      });
    }
  }
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports count: a type loop is still a loop in the design.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], extensions: [".ts", ".js"] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
