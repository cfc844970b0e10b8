/**
 * Reading back what `dlt plot` draws, for its tests: a strict reader of the XML an SVG
 * uses, the headless Chromium the screenshot script needs, and a PNG decoder to count
 * the pixels of a colour in a region of the screenshot.
 */
import { spawnSync } from 'node:child_process';
import { inflateSync } from 'node:zlib';
import { expect } from 'vitest';

export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

/**
 * Parses the XML subset an SVG needs (declaration, elements, attributes, text, the
 * five entities and numeric references) and throws on anything malformed: a tag that
 * closes the wrong element, an unclosed element, a bare `&` or `<`, a duplicate
 * attribute, text or a second element outside the root.
 */
export function parseXml(src: string): XmlNode {
  const doc: XmlNode = { name: '#document', attrs: {}, children: [], text: '' };
  const stack = [doc];
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`malformed XML: ${what} at offset ${i}: ${JSON.stringify(src.slice(i, i + 60))}`);
  };
  const decode = (s: string): string => {
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(s)) fail('a bare &');
    return s.replace(/&(amp|lt|gt|quot|apos|#\d+);/g, (_, e: string) =>
      e.startsWith('#')
        ? String.fromCodePoint(Number(e.slice(1)))
        : ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e]!,
    );
  };
  const declaration = /<\?xml[^?]*\?>\s*/y;
  if (declaration.exec(src)) i = declaration.lastIndex;
  const endTag = /<\/([A-Za-z_][\w:.-]*)\s*>/y;
  const startTag = /<([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*="[^"<]*")*)\s*(\/?)>/y;
  while (i < src.length) {
    endTag.lastIndex = i;
    startTag.lastIndex = i;
    const end = endTag.exec(src);
    const start = end === null ? startTag.exec(src) : null;
    if (end !== null) {
      const open = stack.pop()!;
      if (stack.length === 0 || open.name !== end[1]) fail(`</${end[1]}> closes <${open.name}>`);
      i = endTag.lastIndex;
    } else if (start !== null) {
      const node: XmlNode = { name: start[1]!, attrs: {}, children: [], text: '' };
      for (const a of start[2]!.matchAll(/([A-Za-z_][\w:.-]*)="([^"]*)"/g)) {
        if (a[1]! in node.attrs) fail(`attribute ${a[1]} twice`);
        node.attrs[a[1]!] = decode(a[2]!);
      }
      const parent = stack[stack.length - 1]!;
      if (parent === doc && doc.children.length > 0) fail('a second root element');
      parent.children.push(node);
      if (start[3] !== '/') stack.push(node);
      i = startTag.lastIndex;
    } else if (src[i] === '<') {
      fail('a < that starts no tag');
    } else {
      const next = src.indexOf('<', i);
      const chunk = src.slice(i, next < 0 ? src.length : next);
      if (stack.length === 1 && chunk.trim() !== '') fail('text outside the root element');
      stack[stack.length - 1]!.text += decode(chunk);
      i = next < 0 ? src.length : next;
    }
  }
  if (stack.length !== 1) fail(`<${stack[stack.length - 1]!.name}> is never closed`);
  if (doc.children.length !== 1) fail('no root element');
  return doc.children[0]!;
}

export function findAll(node: XmlNode, match: (n: XmlNode) => boolean, found: XmlNode[] = []): XmlNode[] {
  if (match(node)) found.push(node);
  for (const c of node.children) findAll(c, match, found);
  return found;
}

export function allText(node: XmlNode): string {
  return node.text + node.children.map(allText).join('');
}

/** Every http(s) address in a text; only the SVG namespace is allowed. */
export function addresses(markup: string): string[] {
  return [...markup.matchAll(/https?:\/\/[^\s"'<>)]*/g)].map((m) => m[0]);
}

/** The browser the screenshot script would use, or undefined. */
export function findChromium(): string | undefined {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    if (spawnSync('sh', ['-c', `command -v ${name}`]).status === 0) return name;
  }
  return undefined;
}
export const NO_CHROMIUM = 'no chromium binary found (apt-get install chromium, or set CHROMIUM=/path/to/chrome)';

// ------------------------------------------------------------ reading the PNG

export interface Image {
  width: number;
  height: number;
  channels: number;
  pixels: Uint8Array;
}

/** An 8-bit, non-interlaced RGB or RGBA PNG, decoded (zlib, then the per-row filters). */
export function decodePng(file: Buffer): Image {
  expect(file.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < file.length) {
    const length = file.readUInt32BE(offset);
    const type = file.toString('latin1', offset + 4, offset + 8);
    const data = file.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(data[8], 'bit depth').toBe(8);
      expect([2, 6], 'colour type').toContain(data[9]);
      expect(data[12], 'interlace').toBe(0);
      channels = data[9] === 6 ? 4 : 3;
    } else if (type === 'IDAT') {
      idat.push(data);
    }
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const left = i >= channels ? pixels[y * stride + i - channels]! : 0;
      const up = y > 0 ? pixels[(y - 1) * stride + i]! : 0;
      const upLeft = y > 0 && i >= channels ? pixels[(y - 1) * stride + i - channels]! : 0;
      let predictor = 0;
      if (filter === 1) predictor = left;
      else if (filter === 2) predictor = up;
      else if (filter === 3) predictor = (left + up) >> 1;
      else if (filter === 4) {
        const p = left + up - upLeft;
        const pa = Math.abs(p - left);
        const pb = Math.abs(p - up);
        const pc = Math.abs(p - upLeft);
        predictor = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      }
      pixels[y * stride + i] = (row[i]! + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/**
 * Pixels in rows [top, bottom) (and columns [left, right), by default all) within 24 of
 * `hex` in every channel (anti-aliased edges fade towards white).
 */
export function countColor(image: Image, hex: string, top: number, bottom: number, left = 0, right = image.width): number {
  const want = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
  let count = 0;
  for (let y = Math.max(0, Math.floor(top)); y < Math.min(image.height, Math.ceil(bottom)); y++) {
    for (let x = Math.max(0, Math.floor(left)); x < Math.min(image.width, Math.ceil(right)); x++) {
      const at = (y * image.width + x) * image.channels;
      if (want.every((c, k) => Math.abs(image.pixels[at + k]! - c) <= 24)) count++;
    }
  }
  return count;
}
