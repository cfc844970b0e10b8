import { InputError } from '../errors.js';

/**
 * The CSV dialect dlt reads: RFC 4180 with a few kindnesses. Fields may be quoted
 * ("a, b"), a doubled quote inside quotes is one quote, quoted fields may span lines;
 * CRLF and LF line ends both work; blank lines (a trailing one, say) are skipped; a
 * UTF-8 byte-order mark (as Excel writes it) is dropped. Spaces around a quoted cell
 * are skipped here; trimming other cells and reading numbers is src/data/csv.ts's work.
 */

/** One record: its fields and where each begins (1-based line and column). */
export interface CsvRecord {
  fields: string[];
  lines: number[];
  cols: number[];
}

/**
 * Splits CSV text into records, handing each to `onRecord` as soon as it is read, so a
 * large file is never held as records all at once. Blank lines are skipped; every other
 * line starts a record that ends at the first line end outside quotes.
 *
 * @throws InputError at the position of an unclosed quote or of text after a closing quote.
 */
export function parseCsv(text: string, file: string, delimiter: string, onRecord: (record: CsvRecord) => void): void {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = 0;
  const n = text.length;
  const isEnd = (k: number): boolean => k >= n || text[k] === '\n' || (text[k] === '\r' && (k + 1 >= n || text[k + 1] === '\n'));
  const skipLineEnd = (): void => {
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    lineStart = i;
  };

  while (i < n) {
    // A blank (or all-space) line holds no record.
    let k = i;
    while (k < n && (text[k] === ' ' || text[k] === '\t') && text[k] !== delimiter) k++;
    if (isEnd(k)) {
      i = k;
      skipLineEnd();
      continue;
    }

    const record: CsvRecord = { fields: [], lines: [], cols: [] };
    for (;;) {
      record.lines.push(line);
      record.cols.push(i - lineStart + 1);
      // Spaces before an opening quote are allowed: `a, "b, c"`.
      let q = i;
      while (q < n && (text[q] === ' ' || text[q] === '\t') && text[q] !== delimiter) q++;
      if (text[q] === '"') {
        const startLine = line;
        const startCol = q - lineStart + 1;
        let value = '';
        i = q + 1;
        for (;;) {
          const close = text.indexOf('"', i);
          if (close < 0) {
            throw new InputError(
              `the quoted cell starting here is never closed; add the closing quote (a quote inside a quoted cell is written "")`,
              file,
              { line: startLine, col: startCol },
            );
          }
          const chunk = text.slice(i, close);
          for (let c = chunk.indexOf('\n'); c >= 0; c = chunk.indexOf('\n', c + 1)) {
            line++;
            lineStart = i + c + 1;
          }
          value += chunk;
          if (text[close + 1] === '"') {
            value += '"';
            i = close + 2;
          } else {
            i = close + 1;
            break;
          }
        }
        while (i < n && (text[i] === ' ' || text[i] === '\t') && text[i] !== delimiter) i++;
        if (!(isEnd(i) || text[i] === delimiter)) {
          throw new InputError(
            `unexpected ${JSON.stringify(text[i])} after the closing quote of a quoted cell; a quote inside a quoted cell is written ""`,
            file,
            { line, col: i - lineStart + 1 },
          );
        }
        record.fields.push(value);
      } else {
        let end = i;
        while (end < n && text[end] !== delimiter && !isEnd(end)) end++;
        record.fields.push(text.slice(i, end));
        i = end;
      }
      if (i < n && text[i] === delimiter) {
        i++;
        continue;
      }
      break;
    }
    onRecord(record);
    if (i < n) skipLineEnd();
  }
}
