/** An archive could not be written, or what was written does not match what was read. */
export class ArchiveError extends Error {
  override readonly name: string = 'ArchiveError';
}

/** `verify()` found stored files that differ from their manifest; `problems` has one line per difference. */
export class ArchiveVerificationError extends ArchiveError {
  override readonly name = 'ArchiveVerificationError';

  constructor(
    readonly location: string,
    readonly problems: readonly string[],
  ) {
    super(`Archive at ${location} failed verification:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}
