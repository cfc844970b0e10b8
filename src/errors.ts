/**
 * Typed errors. Commands throw these; only the CLI entry point (src/cli/main.ts) turns
 * one into a message and an exit code, and the code is the error's own (SPEC §2).
 */

/** Where in a file a problem is, 1-based. */
export interface Position {
  line: number;
  col: number;
}

/** An error dlt reports to its user: one message, the file it concerns, and an exit code. */
export abstract class DltError extends Error {
  abstract readonly exitCode: number;

  /**
   * @param message what is wrong and how to fix it, one line or a few.
   * @param file the file at fault, when there is one; printed before the message.
   * @param position `line:col` inside that file, when known.
   */
  constructor(
    message: string,
    readonly file?: string,
    readonly position?: Position,
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** `file:line:col: message`, or as much of it as is known. */
  format(): string {
    if (!this.file) return this.message;
    const where = this.position ? `${this.file}:${this.position.line}:${this.position.col}` : this.file;
    return `${where}: ${this.message}`;
  }
}

/** Bad input from the user: config, CLI usage, path, dataset or snapshot file. Exit code 2. */
export class InputError extends DltError {
  readonly exitCode = 2;
}

/** The run itself failed: divergence, an I/O failure such as a full disk. Exit code 1. */
export class RunError extends DltError {
  readonly exitCode = 1;
}

/** Training stopped by SIGINT/SIGTERM after writing a snapshot. Exit code 130. */
export class Interrupted extends DltError {
  readonly exitCode = 130;
}

/** A signal arrived while train or resume read their input, before anything was written: exit 2, nothing written. */
export class InterruptedBeforeStart extends InputError {}
