export function logDirFor(testPath: string): string;
export function testLogFile(name: string): string;
export function logRun(text: string): void;
export function logTails(testPath: string, lines: number): Array<{ path: string; lines: number; tail: string }>;
