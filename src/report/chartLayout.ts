/**
 * The charts' page geometry, colours and panels: one place for every pixel constant, so
 * the files that draw (panels, frame, legend, epoch marks, events) line up with each other.
 */
import { textWidth } from './svg.js';

// Layout, in pixels. The panels share the plot's left and right edges.
export const WIDTH = 960;
export const LEFT = 72;
export const RIGHT = 24;
export const PLOT_W = WIDTH - LEFT - RIGHT;
export const PANEL_TOP = 84;
export const PANEL_HEADER = 22;
export const PANEL_GAP = 22;
/** Kept free inside each plot, so a curve at the end of its range does not run along the frame. */
export const INSET = 6;
/** The strip at the top of the learning-rate plot where drop markers sit, above the curve. */
export const DROP_STRIP = 14;
export const EVENT_LINE = 17;
/** Events listed under the chart; the HTML page lists them all. */
export const MAX_EVENT_LINES = 8;
export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

export const COLOR = {
  loss: '#a6cee3',
  lossAvg: '#1f78b4',
  valLoss: '#ff7f00',
  valAccuracy: '#33a02c',
  lr: '#6a3d9a',
  drop: '#b15928',
  nan: '#e31a1c',
  grid: '#ececec',
  epoch: '#bdbdbd',
  frame: '#888888',
  text: '#222222',
  muted: '#666666',
  // the sweep chart: every trial muted, the best one bright
  trial: '#aebfd4',
  trialDot: '#6f8fb8',
  best: '#d95f02',
};

export interface Panel {
  id: string;
  title: string;
  height: number;
}

export const PANELS = {
  loss: { id: 'loss', title: 'Loss', height: 230 },
  accuracy: { id: 'accuracy', title: 'Validation accuracy', height: 150 },
  lr: { id: 'lr', title: 'Learning rate (log scale)', height: 130 },
} satisfies Record<string, Panel>;

/** A panel placed on the page: its plot area is [LEFT, LEFT + PLOT_W] × [top, bottom]. */
export interface Placed extends Panel {
  y0: number;
  top: number;
  bottom: number;
}

/** `value`, cut with an ellipsis when it would be wider than `width`. */
export function ellipsize(value: string, fontSize: number, width: number): string {
  if (textWidth(value, fontSize) <= width) return value;
  const chars = [...value];
  const keep = Math.max(1, Math.floor(width / (fontSize * 0.56)) - 1);
  return `${chars.slice(0, keep).join('')}…`;
}
