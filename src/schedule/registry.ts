import type { ScheduleSpec } from '../config/schema.js';
import { ConstantSchedule } from './constant.js';
import { ExponentialSchedule } from './exponential.js';
import { MultistepSchedule } from './multistep.js';
import { PlateauSchedule } from './plateau.js';
import type { Schedule } from './schedule.js';
import { StepSchedule } from './step.js';

/** Config `schedule.type` → schedule, starting at `baseLr` (the config's optimizer.lr). */
const factories: { [T in ScheduleSpec['type']]: (spec: Extract<ScheduleSpec, { type: T }>, baseLr: number) => Schedule } = {
  constant: (_spec, baseLr) => new ConstantSchedule(baseLr),
  step: (spec, baseLr) => new StepSchedule(baseLr, { every: spec.every, factor: spec.factor }),
  multistep: (spec, baseLr) => new MultistepSchedule(baseLr, { milestones: spec.milestones, factor: spec.factor }),
  exponential: (spec, baseLr) => new ExponentialSchedule(baseLr, { gamma: spec.gamma }),
  plateau: (spec, baseLr) =>
    new PlateauSchedule(baseLr, {
      monitor: spec.monitor,
      factor: spec.factor,
      patience: spec.patience,
      threshold: spec.threshold,
      cooldown: spec.cooldown,
      minLr: spec.min_lr,
    }),
};

export function createSchedule(spec: ScheduleSpec, baseLr: number): Schedule {
  const factory = factories[spec.type] as (spec: ScheduleSpec, baseLr: number) => Schedule;
  return factory(spec, baseLr);
}
