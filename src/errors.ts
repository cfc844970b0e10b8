/**
 * Typed errors. Commands throw these; only the CLI entry point (src/cli/main.ts)
 * turns them into an exit code and a message (SPEC §2).
 */

/** Bad input from the user: config, CLI usage, dataset or snapshot file. Exit code 2. */
export class InputError extends Error {
  readonly exitCode = 2;
  /**
   * @param message what is wrong and how to fix it, one line or a few.
   * @param file the file at fault, when there is one; printed before the message.
   * @param position `line:col` inside that file, when known.
   */
  constructor(
    message: string,
    readonly file?: string,
    readonly position?: { line: number; col: number },
  ) {
    super(message);
    this.name = 'InputError';
  }

  /** `file:line:col: message`, or as much of it as is known. */
  format(): string {
    let where = '';
    if (this.file) {
      where = this.file;
      if (this.position) where += `:${this.position.line}:${this.position.col}`;
      where += ': ';
    }
    return where + this.message;
  }
}

/** The run itself failed: divergence, I/O failure. Exit code 1. */
export class RunError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'RunError';
  }
}

/** Training stopped by SIGINT/SIGTERM after writing a snapshot. Exit code 130. */
export class Interrupted extends Error {
  readonly exitCode = 130;
  constructor(message: string) {
    super(message);
    this.name = 'Interrupted';
  }
}
