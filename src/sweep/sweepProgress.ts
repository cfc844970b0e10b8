import cliProgress from 'cli-progress';
import { describeParams, type Sweep } from './sweepFile.js';
import type { SweepMetric } from './sweepSchema.js';
import type { EpochMessage } from './trialMessages.js';
import type { TrialOutcome } from './trialOutcome.js';
import { trialName } from './trials.js';

/** How a sweep talks to its user while it runs (the CLI prints it; tests may collect it). */
export interface SweepProgress {
  /** The sweep directory: the first line printed. */
  sweepDir(root: string, sweep: Sweep): void;
  started(id: number): void;
  epoch(id: number, message: EpochMessage): void;
  ended(outcome: TrialOutcome): void;
  interrupted(id: number): void;
  stopping(): void;
  /** The leaderboard, at the end. */
  done(leaderboard: string): void;
}

/**
 * For pipes and logs: a line when a trial starts and when it ends, each naming the trial
 * and its parameters:
 *   trial-0003  optimizer.lr=0.1, model.layers.0.units=16  finished  val_accuracy 0.9833 (epoch 14)
 */
export class PlainSweepProgress implements SweepProgress {
  protected params = new Map<number, string>();
  protected metric: SweepMetric = { name: 'val_accuracy', goal: 'maximize' };

  constructor(protected readonly write: (text: string) => void) {}

  sweepDir(root: string, sweep: Sweep): void {
    for (const t of sweep.trials) this.params.set(t.id, describeParams(t.params));
    this.metric = sweep.spec.metric;
    this.write(`${root}\n`);
    this.write(`${sweep.trials.length} trials (${sweep.spec.method}), ranked by ${sweep.spec.metric.name} (${sweep.spec.metric.goal})\n`);
  }
  started(id: number): void {
    this.line(id, 'started');
  }
  epoch(_id: number, _m: EpochMessage): void {}
  ended(o: TrialOutcome): void {
    if (o.status === 'failed') this.line(o.id, `failed: ${(o.error ?? '').split('\n')[0]}`);
    else this.line(o.id, `finished  ${this.metric.name} ${formatMetric(o.metric)} (epoch ${o.epoch ?? '-'})`);
  }
  interrupted(id: number): void {
    this.line(id, 'stopped after its snapshot');
  }
  stopping(): void {
    this.write('stopping: running trials finish their batch and write a snapshot\n');
  }
  done(leaderboard: string): void {
    this.write(`\n${leaderboard}`);
  }

  protected line(id: number, what: string): void {
    this.write(`${this.label(id)}  ${what}\n`);
  }
  protected label(id: number): string {
    return `${trialName(id)}  ${this.params.get(id) ?? ''}`;
  }
}

/**
 * On a terminal: one live line per running trial (trial, parameters, epoch, the metric's
 * latest and best values), and the start and end lines above them.
 */
export class TtySweepProgress extends PlainSweepProgress {
  private readonly bars = new cliProgress.MultiBar(
    { format: '{label}  epoch {value}/{total}  {metric}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  private readonly running = new Map<number, { bar: cliProgress.SingleBar; best: number | null }>();

  override started(id: number): void {
    const bar = this.bars.create(1, 0, { label: this.label(id), metric: '' });
    this.running.set(id, { bar, best: null });
  }
  override epoch(id: number, m: EpochMessage): void {
    const trial = this.running.get(id);
    if (!trial) return;
    const value = m[this.metric.name];
    if (value !== null && (trial.best === null || (this.metric.goal === 'maximize' ? value > trial.best : value < trial.best))) trial.best = value;
    trial.bar.setTotal(m.epochs);
    trial.bar.update(m.epoch, { metric: `${this.metric.name} ${formatMetric(value)} (best ${formatMetric(trial.best)})` });
  }
  override ended(o: TrialOutcome): void {
    this.remove(o.id);
    super.ended(o);
  }
  override interrupted(id: number): void {
    this.remove(id);
    super.interrupted(id);
  }
  override done(leaderboard: string): void {
    this.bars.stop();
    super.done(leaderboard);
  }
  protected override line(id: number, what: string): void {
    this.bars.log(`${this.label(id)}  ${what}\n`);
  }

  private remove(id: number): void {
    const trial = this.running.get(id);
    if (trial) this.bars.remove(trial.bar);
    this.running.delete(id);
  }
}

function formatMetric(value: number | null): string {
  return value === null ? '-' : value.toFixed(4);
}
