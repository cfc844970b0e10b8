import { Redis, type RedisOptions } from 'ioredis';
import { InputError, RunError } from '../errors.js';

/**
 * The Redis server behind `--queue redis://[:password@]HOST:PORT[/DB]`: the one external
 * service of a distributed sweep. Connections are ioredis clients, which BullMQ uses as
 * they are. The password never appears in a message.
 */

/** The one queue every coordinator fills and every `dlt worker` serves. */
export const QUEUE_NAME = 'dlt-trials';

/** How long to try to reach the server before saying it is unreachable. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Reconnection attempts (about 100 ms apart, growing) before a lost server ends a worker. */
const RECONNECT_ATTEMPTS = 20;

/**
 * An ioredis client whose copies (BullMQ makes one for each blocking connection) report
 * their errors here. ioredis prints an error that has no listener, with its stack, and a
 * copy BullMQ has let go of may still fail to reconnect while dlt exits.
 */
class QueueClient extends Redis {
  lastError = '';

  override duplicate(override?: Partial<RedisOptions>): Redis {
    const copy = super.duplicate(override);
    copy.on('error', (err: Error) => {
      this.lastError = err.message;
    });
    return copy;
  }
}

/** The URL as messages show it: the password replaced by `***`. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(not a URL)';
  }
}

/** Check the --queue value before anything connects. */
export function checkQueueUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InputError(`--queue ${redactedUrl(url)}: not a URL; give redis://HOST:PORT, e.g. redis://127.0.0.1:6379`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new InputError(`--queue ${redactedUrl(url)}: the queue is a Redis server; give redis://HOST:PORT (or rediss:// for TLS)`);
  }
}

/**
 * A connected client, or InputError (exit 2) naming the URL and the cause when the server
 * cannot be reached. Afterwards, a connection lost for good (the server stopped) is
 * reported to `onLost` once, with the cause.
 */
export async function connectQueue(url: string, onLost: (error: RunError) => void): Promise<Redis> {
  checkQueueUrl(url);
  let connected = false;
  const client = new QueueClient(url, {
    // BullMQ's workers block on Redis and need commands never to give up on their own.
    maxRetriesPerRequest: null,
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (times) => (connected && times <= RECONNECT_ATTEMPTS ? Math.min(100 * times, 1000) : null),
  });
  client.on('error', (err: Error) => {
    client.lastError = err.message;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    const cause = client.lastError || (err instanceof Error ? err.message : String(err));
    throw new InputError(
      `cannot reach the queue at ${redactedUrl(url)} (${cause}); start Redis there (e.g. redis-server --port ${new URL(url).port || 6379}) or give the right --queue`,
    );
  }
  connected = true;
  client.on('end', () => {
    onLost(
      new RunError(
        `lost the queue at ${redactedUrl(url)} (${client.lastError || 'the connection closed'}) and could not reconnect; restart Redis, then dlt worker`,
      ),
    );
  });
  return client;
}
