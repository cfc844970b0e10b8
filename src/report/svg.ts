/**
 * SVG (and HTML) text built by hand, with no dependencies. An element is a string;
 * `el` escapes every attribute value and `text` escapes character data, so a run name
 * or a schedule's reason can never break the markup. Numbers are printed to a tenth of
 * a pixel with one formatting rule, so the same input always gives the same bytes.
 */

export type Attrs = Record<string, string | number | undefined>;

export const SVG_NAMESPACE = 'http://www.w3.org/2000/svg';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Character data or an attribute value, escaped for XML and HTML alike. Control
 * characters other than tab and newline are not allowed in XML 1.0 at all, so they
 * become U+FFFD rather than making the file unreadable.
 */
export function escapeXml(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching the control characters XML 1.0 forbids is this pattern's purpose
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c]!).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd');
}

/** Escaped character data, to pass as a child of `el`. */
export function text(value: string): string {
  return escapeXml(value);
}

/**
 * `<name attr="value" ...>children</name>`, or `<name .../>` without children.
 * Attributes whose value is undefined are left out; numbers go through `num`.
 * Children are markup already (other `el` results or `text`).
 */
export function el(name: string, attrs: Attrs = {}, ...children: string[]): string {
  let open = `<${name}`;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    if (!/^[a-zA-Z_][\w:.-]*$/.test(key)) throw new Error(`invalid attribute name ${JSON.stringify(key)}`);
    open += ` ${key}="${escapeXml(typeof value === 'number' ? num(value) : value)}"`;
  }
  return children.length === 0 ? `${open}/>` : `${open}>${children.join('')}</${name}>`;
}

/** A coordinate or length: rounded to 0.1 (finer is invisible), no "-0", no trailing ".0". */
export function num(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`cannot draw the non-finite value ${value}`);
  const rounded = Math.round(value * 10) / 10;
  return String(rounded === 0 ? 0 : rounded);
}

/** The `points` attribute of a polyline: "x1,y1 x2,y2 ...". */
export function points(xy: readonly (readonly [number, number])[]): string {
  return xy.map(([x, y]) => `${num(x)},${num(y)}`).join(' ');
}

/** A complete standalone SVG document. */
export function svgDocument(width: number, height: number, attrs: Attrs, ...children: string[]): string {
  const root = el('svg', { xmlns: SVG_NAMESPACE, width, height, viewBox: `0 0 ${num(width)} ${num(height)}`, ...attrs }, ...children);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}\n`;
}

/** Rough width of a line of text in the default sans-serif font, for layout (no font metrics here). */
export function textWidth(value: string, fontSize: number): number {
  return [...value].length * fontSize * 0.56;
}
