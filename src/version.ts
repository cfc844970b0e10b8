import { readFileSync } from 'node:fs';

/** dlt's version, from package.json (dist/version.js sits one folder below it). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
