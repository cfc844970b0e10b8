/**
 * A real Redis server for the queue tests: Debian's redis-server, started on a free
 * loopback port in a temporary folder, with an append-only file so that a restart keeps
 * the queue, and stopped by the test.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Why the queue tests cannot run here, or undefined when redis-server is installed. */
export const NO_REDIS =
  spawnSync('redis-server', ['--version']).status === 0 ? undefined : 'redis-server is not installed (apt-get install redis-server)';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface RedisServer {
  port: number;
  url: string;
  /** Stop the server (SIGTERM) and wait for it to exit. */
  stop(): Promise<void>;
  /** Start it again on the same port and folder, unless it runs: the queue is as it was. */
  restart(): Promise<void>;
  /** Stop it if running and remove its folder. */
  cleanup(): Promise<void>;
}

export async function startRedis(options: { password?: string } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'dlt-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'];
  if (options.password) args.push('--requirepass', options.password);
  let child: ChildProcess | undefined;
  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return; // running
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitUntilUp(port, options.password);
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await start();
  const auth = options.password ? `:${options.password}@` : '';
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    stop,
    restart: start,
    cleanup: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Wait for PING to answer (redis-cli), up to 10 s. */
async function waitUntilUp(port: number, password?: string): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const r = spawnSync('redis-cli', ['-p', String(port), ...(password ? ['-a', password, '--no-auth-warning'] : []), 'ping'], { encoding: 'utf8' });
    if (r.stdout.trim() === 'PONG') return;
    if (Date.now() > end) throw new Error(`redis-server on port ${port} did not answer PING: ${r.stdout}${r.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
