#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm install` through `prepare`).
import('../dist/cli/main.js')
  .then((m) => m.runCli(process.argv))
  .catch((err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli/main.js')) {
      process.stderr.write('dlt is not built yet: run `npm install` (or `npm run build`) in the dlt folder first.\n');
      process.exit(2);
    }
    throw err;
  });
