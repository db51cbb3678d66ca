// Plain JavaScript: jest loads the reporter below without transforming it, and the tests share this one definition.
const { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..', '..');

/** Where the apps of one test file write their logs: one folder per test file, emptied when the file starts. */
function logDirFor(testPath) {
  return join(tmpdir(), 'hookhub-test-logs', relative(ROOT, testPath));
}

const emptied = new Set();

/** A log file of the running test file (`name`.log); the first call of a test file empties its folder. */
function testLogFile(name) {
  const dir = logDirFor(expect.getState().testPath);
  if (!emptied.has(dir)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    emptied.add(dir);
  }
  return join(dir, `${name}.log`);
}

/** Figures of a run (requests sent, timings) go to the test file's run.log: a passing run prints nothing but jest's summary. */
function logRun(text) {
  appendFileSync(testLogFile('run'), `${text}\n`);
}

/** The last `lines` lines of every log of a test file, each under its path. */
function logTails(testPath, lines) {
  const dir = logDirFor(testPath);
  let files;
  try {
    files = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return files.map((file) => {
    const path = join(dir, file);
    const all = readFileSync(path, 'utf8').trimEnd().split('\n');
    return { path, lines: all.length, tail: all.slice(-lines).join('\n') };
  });
}

module.exports = { logDirFor, testLogFile, logRun, logTails };
