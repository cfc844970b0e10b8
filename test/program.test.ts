/**
 * The command line parsed in-process (src/cli/program.ts, src/cli/main.ts): options are
 * declared once with their types, bad usage is exit 2 with one message, and main
 * returns the exit code the error carries — no Node process spawned.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliContext } from '../src/cli/context.js';
import { main } from '../src/cli/main.js';
import { program } from '../src/cli/program.js';
import { PlainSweepProgress } from '../src/sweep/sweepProgress.js';
import type { Reporter } from '../src/train/reporter.js';
import { ignoreSignals } from '../src/train/signals.js';
import { repoRoot } from './support/cli.js';

/** A context that keeps what a command prints. */
function capture(): CliContext & { out: string; err: string } {
  const silent: Reporter = { runDir() {}, info() {}, warn() {}, epochStart() {}, progress() {}, epochEnd() {} };
  const ctx = {
    out: '',
    err: '',
    stdout: (text: string) => {
      ctx.out += text;
    },
    stderr: (text: string) => {
      ctx.err += text;
    },
    reporter: () => silent,
    trainingSignals: () => ignoreSignals,
    stopRequests: () => () => {},
    sweepProgress: () =>
      new PlainSweepProgress((text) => {
        ctx.out += text;
      }),
  };
  return ctx;
}

const run = async (...args: string[]) => {
  const ctx = capture();
  const code = await main(['node', 'dlt', ...args], ctx);
  return { code, out: ctx.out, err: ctx.err };
};

describe('parsing, in-process', () => {
  it('--help and --version exit 0 and print to stdout', async () => {
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage: dlt/);
    for (const command of ['train', 'resume', 'eval', 'gradcheck', 'schema', 'inspect', 'plot', 'data']) expect(help.out).toContain(command);
    expect((await run('--version')).code).toBe(0);
  });

  it('bad option values are exit 2 with one message saying what is expected', async () => {
    const cases: [string[], RegExp][] = [
      [['resume', 'x', '--epochs', '0'], /option '--epochs <n>' argument '0' is invalid\. expected a whole number ≥ 1\./],
      [['train', 'x', '--seed', '-1'], /argument '-1' is invalid\. expected a whole number ≥ 0\./],
      [['eval', 'x', '--split', 'dev'], /argument 'dev' is invalid\. Allowed choices are test, val, train\./],
      [['train', 'x', '--backend', 'gpu'], /Allowed choices are auto, js, native\./],
      [['gradcheck', 'x', '--delta', '0'], /expected a number > 0, e\.g\. 1e-6\./],
      [['train'], /missing required argument 'config'/],
      [['trian', 'x'], /unknown command 'trian'/],
    ];
    for (const [args, message] of cases) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(message);
      expect(r.err.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
    }
  });

  it('the parsed options arrive typed, with their defaults: --set collects, --out defaults to runs', () => {
    const cli = program(capture());
    const train = cli.commands.find((c) => c.name() === 'train');
    expect(train?.options.map((o) => o.long)).toEqual(['--out', '--set', '--seed', '--tensorboard', '--backend', '--threads']);
    const parsed = train?.parseOptions(['--set', 'a=1', '--set', 'b=2']);
    expect(parsed?.unknown).toEqual([]);
    expect(train?.opts()).toEqual({ out: 'runs', set: ['a=1', 'b=2'] });
  });
});

describe('main returns the exit code the error carries', () => {
  it('bad input: 2, one "error:" line naming the file, no stack', async () => {
    const r = await run('eval', path.join(repoRoot, 'no-such-run'));
    expect(r.code).toBe(2);
    expect(r.err).toBe(`error: ${path.join(repoRoot, 'no-such-run')}: no such run directory or snapshot file\n`);
  });

  it('a failed gradient check: 1', async () => {
    const r = await run('gradcheck', path.join(repoRoot, 'configs', 'xor.yaml'), '--delta', '1');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: gradient check failed/);
  });

  it('success: 0, the command printing through the context', async () => {
    const r = await run('schema');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toHaveProperty('$schema');
  });
});
