const { logTails } = require('./test-logs');

/**
 * The apps under test log to a file per test file (test-logs.js), not into the
 * runner's output. When a test file fails, this prints the tail of its logs
 * after jest's own report of the failure.
 */
class LogTailReporter {
  constructor(_globalConfig, options = {}) {
    this.lines = options.lines ?? 80;
  }

  onTestResult(test, result) {
    if (result.numFailingTests === 0 && !result.testExecError) return;
    for (const log of logTails(test.path, this.lines)) {
      if (!log.tail) continue;
      const shown = Math.min(log.lines, this.lines);
      process.stderr.write(`\n  ● app log ${log.path} (last ${shown} of ${log.lines} lines)\n\n${log.tail.replace(/^/gm, '    ')}\n`);
    }
  }
}

module.exports = LogTailReporter;
