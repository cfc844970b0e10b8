/** A learning rate for people: 0.005000000000000001 prints as 0.005 (metrics keep every bit). */
export function formatLr(lr: number): string {
  return String(Number(lr.toPrecision(6)));
}
