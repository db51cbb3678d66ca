/**
 * A start-up failure whose message is the whole story: what is wrong and how to fix it, on one line.
 * The app's launcher prints it as is (no stack trace) and exits non-zero.
 */
export class StartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
  }
}
