import type { RunReport } from './runReport.js';

/**
 * report.json (`dlt report --json`): the page's numbers for scripts. Undefined values
 * (NaN: a class never predicted, an empty bin) become null. Samples are positions in
 * the split (0-based), as in the page.
 */
export function reportJson(r: RunReport): string {
  const n = (v: number) => (Number.isNaN(v) ? null : v);
  return `${JSON.stringify({
    run: r.title,
    snapshot: r.snapshot,
    split: r.split,
    samples: r.samples,
    accuracy: r.accuracy,
    classes: r.classNames,
    per_class: r.perClass.map((m, k) => ({
      class: k,
      name: r.classNames[k],
      precision: n(m.precision),
      recall: n(m.recall),
      f1: n(m.f1),
      support: m.support,
    })),
    macro: { precision: n(r.macro.precision), recall: n(r.macro.recall), f1: n(r.macro.f1) },
    confusion: r.confusion,
    ece: r.calibration.ece,
    calibration: r.calibration.bins.map((b) => ({ lo: b.lo, hi: b.hi, count: b.count, confidence: n(b.confidence), accuracy: n(b.accuracy) })),
    mistakes: r.mistakes,
    layers: r.layers.map((l) => ({ name: l.name, output_shape: l.outputShape, params: l.params, ...(l.field ? { receptive_field: l.field } : {}) })),
    units: r.units.map((u) => ({
      layer: u.layer,
      receptive_field: u.field,
      top: u.top.map((patches) => patches.map((p) => ({ sample: p.sample, value: p.value, y: p.y, x: p.x }))),
    })),
  })}\n`;
}
