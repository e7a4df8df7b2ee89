#!/usr/bin/env node
// Thin launcher: all behaviour lives in the compiled library under dist/.
import { main } from "../dist/cli/main.js";

process.exitCode = await main(process.argv);
