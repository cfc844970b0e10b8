// Test instrumentation, loaded with `node --import` before dlt: writes "SIGINT" or
// "SIGTERM" to file descriptor 3 whenever a listener for that signal is added, so that a
// test can send a signal once dlt handles it (before that, Node's default action would
// kill the process) and know that its timing is not a race.
import { writeSync } from 'node:fs';

const on = process.on.bind(process);
process.on = (event, listener) => {
  const result = on(event, listener);
  if (event === 'SIGINT' || event === 'SIGTERM') writeSync(3, `${event}\n`);
  return result;
};
