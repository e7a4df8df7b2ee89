// Command-line options of the long-mode tools: `--name value` pairs.
const argv = process.argv.slice(2);

/** The value after `--name`, or `fallback`. */
export function option(name, fallback) {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
}

export const hasOption = (name) => argv.includes(name);
