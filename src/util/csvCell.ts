/**
 * One CSV cell (RFC 4180): empty for null or absent; numbers as JSON writes them (the
 * shortest text that reads back as the same double); strings as they are; lists and
 * mappings as JSON. Quoted when it holds a comma, a quote or a line break.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
