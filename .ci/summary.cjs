// Prints what a vitest JSON report holds, so the end of CI's output says which tests failed and why
// (the top of a long log may not be kept). Usage: summary.cjs LABEL=report.json [LABEL=report.json ...]
// A missing or empty report counts as a failure: no tests ran.
const fs = require("node:fs");

let passed = 0;
let failed = 0;
let skipped = 0;
let ok = true;
for (const arg of process.argv.slice(2)) {
  const [label, file] = arg.split("=");
  let report;
  try {
    report = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    console.log(`${label}: no report (${file}); counted as failed`);
    failed += 1;
    ok = false;
    continue;
  }
  if (report.numTotalTests === 0) {
    console.log(`${label}: no tests ran`);
    ok = false;
  }
  for (const suite of report.testResults ?? []) {
    const failures = (suite.assertionResults ?? []).filter((t) => t.status === "failed");
    // A file that failed to load or whose hooks threw has no failed test of its own but a message.
    if (failures.length === 0 && suite.status === "failed") {
      console.log(`${label} FAILED ${suite.name}\n  ${firstLines(suite.message)}`);
    }
    for (const t of failures) {
      console.log(`${label} FAILED ${suite.name} > ${t.fullName}\n  ${firstLines((t.failureMessages ?? []).join("\n"))}`);
    }
  }
  const line = `${label}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`;
  console.log(line + (report.numPendingTests ? `, ${report.numPendingTests} skipped` : ""));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests;
  if (report.numFailedTests > 0 || report.success === false) ok = false;
}
if (process.argv.length > 3) {
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
}
process.exit(ok ? 0 : 1);

function firstLines(text) {
  return String(text ?? "").split("\n").slice(0, 6).join("\n  ");
}
