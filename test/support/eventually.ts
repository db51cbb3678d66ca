/** Retries an assertion until it passes or `timeoutMs` runs out, then throws its last failure. */
export async function eventually(assertion: () => Promise<void> | void, timeoutMs = 10_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
