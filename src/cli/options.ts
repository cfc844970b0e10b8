import { InvalidArgumentError, Option } from '@commander-js/extra-typings';

/**
 * Options and argument parsers shared by several commands. Each option is declared once,
 * here or where its command is defined; commander's extra typings give every action the
 * types of the options it declared.
 */

export function backendOption() {
  return new Option('--backend <name>', 'compute backend: native when built, else js (also: DLT_BACKEND)').choices(['auto', 'js', 'native'] as const);
}

export function threadsOption() {
  return new Option(
    '--threads <n>',
    "threads for the native backend's BLAS (default: the count measured fastest when it was built, else 2; also: DLT_THREADS)",
  ).argParser(positiveNumber);
}

/** `--set key=value`, repeatable. */
export function setOption(description: string) {
  return new Option('--set <key=value>', description).argParser(collect).default([] as string[]);
}

export function jsonOption() {
  return new Option('--json', 'print one JSON object');
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number ≥ 1.');
  return n;
}

export function positiveReal(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || x <= 0) throw new InvalidArgumentError('expected a number > 0, e.g. 1e-6.');
  return x;
}

export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0.');
  return n;
}
