/**
 * dlt sweep --queue and dlt worker against a real Redis (Debian's redis-server, started
 * by the tests on a free loopback port). They skip with a message where redis-server is
 * not installed; CI installs it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dlt, expectInputError, tempDir } from './support/cli.js';
import { NO_REDIS, type RedisServer, startRedis } from './support/redisServer.js';
import { expectExit, expectSameFinalTensors, metricsWithoutClock, type Spawned, spawnDlt, waitFor } from './support/resumeSupport.js';
import { BASE_CONFIG, GRID_SWEEP, sweepResults, sweepUntilEpoch, type TrialResult, withoutRunDirs } from './support/sweepSupport.js';

if (NO_REDIS) console.warn(`test/sweepQueue.test.ts: skipped: ${NO_REDIS}`);

const tmp = tempDir('dlt-queue-');
tmp.write('base.yaml', BASE_CONFIG);
/** Trials long enough (300 epochs, about a second) to be killed in the middle. */
const LONG = GRID_SWEEP.replace('name: grid', 'name: long').replace('parameters:', 'parameters:\n  training.epochs: {values: [300]}');
const grid = tmp.write('grid.yaml', GRID_SWEEP);
const long = tmp.write('long.yaml', LONG);
const out = path.join(tmp.dir, 'out');

let redis: RedisServer;
const workers: Spawned[] = [];
beforeAll(async () => {
  if (!NO_REDIS) redis = await startRedis();
});
// A test that fails leaves no worker behind, and the server up, for the next one.
afterEach(async () => {
  await stopWorkers();
  if (redis) await redis.restart();
});
afterAll(async () => {
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await redis?.cleanup();
  tmp.cleanup();
});

function worker(url = redis.url, ...extra: string[]): Spawned & { log: () => string } {
  const w = spawnDlt(['worker', '--queue', url, '--out', out, '--backend', 'js', '--parallel', '1', '--stalled-after', '2', ...extra], tmp.dir);
  let log = '';
  w.child.stdout!.on('data', (s: Buffer) => (log += s.toString()));
  workers.push(w);
  return { ...w, log: () => log };
}

async function stopWorkers(): Promise<void> {
  for (const w of workers.splice(0)) {
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGINT');
    await w.done;
  }
}

/** The same sweep on the local engine: the reference every queue run must equal. */
function localReference(file: string): TrialResult[] {
  const r = dlt(['sweep', file, '--out', path.join(tmp.dir, 'local'), '--backend', 'js', '--parallel', '2'], tmp.dir);
  expectExit(r, 0);
  return sweepResults(r.stdout.split('\n')[0]!);
}

function expectSameTrials(got: TrialResult[], want: TrialResult[]): void {
  expect(withoutRunDirs(got)).toEqual(withoutRunDirs(want));
  for (const r of want) {
    const other = got.find((g) => g.id === r.id)!.run_dir;
    expectSameFinalTensors(other, r.run_dir, `trial ${r.id}`);
    expect(metricsWithoutClock(other), `trial ${r.id}: metrics.jsonl`).toEqual(metricsWithoutClock(r.run_dir));
  }
}

describe.skipIf(NO_REDIS)('a sweep through Redis and BullMQ', () => {
  it('two workers give every trial the metrics and the tensors the local engine gives', async () => {
    worker();
    worker();
    const r = dlt(['sweep', grid, '--queue', redis.url, '--out', out], tmp.dir);
    expectExit(r, 0);
    const dir = r.stdout.split('\n')[0]!;
    const got = sweepResults(dir);
    expect(got.map((t) => t.status)).toEqual(['finished', 'finished', 'finished', 'finished']);
    expect(got.every((t) => t.run_dir.startsWith(path.join(dir, 'trials')))).toBe(true);
    expectSameTrials(got, localReference(grid));
    await stopWorkers();
  });

  it('a worker killed (SIGKILL) in the middle of a trial: another resumes it; the sweep completes, each trial counted once, bit for bit', async () => {
    const victim = worker();
    // The victim is alone, so it takes trial 1; kill it 30 epochs in, then start the rescuer.
    const sweep = await sweepUntilEpoch(['sweep', long, '--queue', redis.url, '--out', out], tmp.dir, 1, 30);
    const trial1 = path.join(sweep.dir(), 'trials', 'trial-0001');
    victim.child.kill('SIGKILL');
    await victim.done;
    const rescuer = worker();
    const done = await sweep.done;
    expect(done.code, done.stderr).toBe(0);
    const got = sweepResults(sweep.dir());
    expect(got.map((t) => t.id)).toEqual([1, 2, 3, 4]);
    expect(rescuer.log()).toMatch(/trial-0001 of long: started/);
    expect(existsSync(path.join(trial1, 'snapshots', 'latest.safetensors'))).toBe(true);
    expectSameTrials(got, localReference(long));
    await stopWorkers();
  });

  it('a coordinator stopped and restarted with --resume collects the same result', async () => {
    worker();
    const sweep = spawnDlt(['sweep', long, '--queue', redis.url, '--out', out], tmp.dir);
    let stdout = '';
    sweep.child.stdout!.on('data', (s: Buffer) => (stdout += s.toString()));
    await waitFor(() => /finished/.test(stdout), 120_000, 'a first trial to finish');
    sweep.child.kill('SIGINT');
    const stopped = await sweep.done;
    expect(stopped.code).toBe(130);
    const dir = stopped.stdout.split('\n')[0]!;
    const resumed = dlt(['sweep', long, '--queue', redis.url, '--resume', dir], tmp.dir);
    expectExit(resumed, 0);
    const got = sweepResults(dir);
    expect(got.map((t) => t.id)).toEqual([1, 2, 3, 4]);
    expectSameTrials(got, localReference(long));
    await stopWorkers();
  });

  it('Redis stopped while a worker waits: the worker exits 1 naming the queue; Redis and a worker restarted finish the sweep', async () => {
    const waiting = worker();
    await waitFor(() => waiting.log().includes('taking trials'), 30_000, 'the worker to connect');
    await redis.stop();
    const ended = await waiting.done;
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain(`lost the queue at redis://127.0.0.1:${redis.port}`);
    expect(ended.stderr).not.toMatch(/\n\s+at /);
    await redis.restart();
    worker();
    const r = dlt(['sweep', grid, '--queue', redis.url, '--out', out], tmp.dir);
    expectExit(r, 0);
    expect(sweepResults(r.stdout.split('\n')[0]!)).toHaveLength(4);
    await stopWorkers();
  });

  it('SIGINT to a worker hands its running trial back after a snapshot; the next worker resumes it', async () => {
    const first = worker();
    const sweep = await sweepUntilEpoch(['sweep', long, '--queue', redis.url, '--out', out], tmp.dir, 1, 30);
    first.child.kill('SIGINT');
    const ended = await first.done;
    expect(ended.code).toBe(130);
    expect(ended.stdout).toContain('go back to the queue');
    worker();
    const done = await sweep.done;
    expect(done.code, done.stderr).toBe(0);
    expectSameTrials(sweepResults(sweep.dir()), localReference(long));
    await stopWorkers();
  });
});

describe.skipIf(NO_REDIS)('queue addresses', () => {
  it('an unreachable queue: exit 2 with the URL and the cause, for dlt sweep and dlt worker, and nothing created', async () => {
    const { freePort } = await import('./support/redisServer.js');
    const url = `redis://:hunter2@127.0.0.1:${await freePort()}`;
    const bad = path.join(tmp.dir, 'never');
    for (const args of [
      ['sweep', grid, '--queue', url, '--out', bad],
      ['worker', '--queue', url, '--out', bad],
    ]) {
      const message = expectInputError(dlt(args, tmp.dir));
      expect(message).toMatch(/cannot reach the queue at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(.*ECONNREFUSED/);
      expect(message).not.toContain('hunter2');
    }
    expect(existsSync(bad)).toBe(false);
    expect(expectInputError(dlt(['worker', '--queue', 'http://127.0.0.1:1'], tmp.dir))).toContain('the queue is a Redis server');
  });

  it('a password in the URL works, and is printed nowhere', async () => {
    const secured = await startRedis({ password: 's3cret-pw' });
    try {
      const w = worker(secured.url);
      const r = dlt(['sweep', grid, '--queue', secured.url, '--out', out], tmp.dir);
      expectExit(r, 0);
      await stopWorkers();
      const ended = await w.done;
      for (const text of [r.stdout, r.stderr, ended.stdout, ended.stderr]) expect(text).not.toContain('s3cret-pw');
      expect(ended.stdout).toContain(`redis://:***@127.0.0.1:${secured.port}`);
    } finally {
      await secured.cleanup();
    }
  });
});
