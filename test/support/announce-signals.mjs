// Test instrumentation, loaded with `node --import` before dlt. Whenever a listener for
// SIGINT or SIGTERM is added, it writes the signal's name to file descriptor 3 and then
// waits until the test writes a line to file descriptor 4, so that a test can send a
// signal at exactly that point (after dlt handles it, before dlt goes on), whatever the
// machine's load.
import { readSync, writeSync } from 'node:fs';

const on = process.on.bind(process);
process.on = (event, listener) => {
  const result = on(event, listener);
  if (event === 'SIGINT' || event === 'SIGTERM') {
    writeSync(3, `${event}\n`);
    waitForGo();
  }
  return result;
};

function waitForGo() {
  const byte = Buffer.alloc(1);
  for (;;) {
    try {
      if (readSync(4, byte, 0, 1, null) === 0 || byte[0] === 0x0a) return;
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
    }
  }
}
