#!/usr/bin/env node
// Builds dlt's native backend (native/) during `npm install`, or by hand with
// `npm run build:native`. It never fails the install: when there is no C compiler or
// no CBLAS, or the build breaks, it records why in native/build/status.json, prints
// that reason, and dlt runs on its JavaScript backend.
//
// DLT_NO_BLAS=1 hides the BLAS from this search (to test the no-BLAS path on a machine
// that has one). The fast path needs one system package:
//   Debian/Ubuntu: apt-get install libopenblas-dev     macOS: Xcode's command line tools (Accelerate)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'native');
const buildDir = join(nativeDir, 'build');
const HOW_TO_ENABLE =
  'for the fast native backend install a CBLAS (Debian/Ubuntu: apt-get install libopenblas-dev; macOS: xcode-select --install) and run npm run build:native';

/** The candidate BLAS installations, most preferred first. */
function candidates() {
  if (process.platform === 'darwin') {
    return [{ name: 'accelerate', defines: ['DLT_ACCELERATE'], include_dirs: [], libraries: ['-framework Accelerate'] }];
  }
  return [
    { name: 'openblas', defines: ['DLT_OPENBLAS'], include_dirs: [], libraries: ['-lopenblas'] },
    { name: 'openblas', defines: ['DLT_OPENBLAS'], include_dirs: ['/usr/include/openblas'], libraries: ['-lopenblas'] },
    { name: 'cblas', defines: [], include_dirs: [], libraries: ['-lcblas'] },
    { name: 'cblas', defines: [], include_dirs: [], libraries: ['-lblas'] },
  ];
}

const PROBE = `
#ifdef DLT_ACCELERATE
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif
int main(void) {
  float a = 2, b = 3, c = 0;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1.0f, &a, 1, &b, 1, 0.0f, &c, 1);
#ifdef DLT_OPENBLAS
  openblas_set_num_threads(1);
#endif
  return c == 6 ? 0 : 1;
}
`;

/** The first candidate whose probe compiles, links and runs, or the reason none did. */
function findBlas() {
  if (process.env.DLT_NO_BLAS === '1') return { reason: 'the BLAS is hidden from the build (DLT_NO_BLAS=1)' };
  const cc = process.env.CC || 'cc';
  if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status !== 0) return { reason: `no C compiler found (${cc})` };
  const dir = mkdtempSync(join(tmpdir(), 'dlt-blas-'));
  try {
    writeFileSync(join(dir, 'probe.c'), PROBE);
    for (const candidate of candidates()) {
      const args = [
        ...candidate.defines.map((d) => `-D${d}`),
        ...candidate.include_dirs.map((d) => `-I${d}`),
        'probe.c',
        '-o',
        'probe',
        ...candidate.libraries.flatMap((l) => l.split(' ')),
      ];
      if (spawnSync(cc, args, { cwd: dir, stdio: 'ignore' }).status !== 0) continue;
      if (spawnSync(join(dir, 'probe'), [], { stdio: 'ignore' }).status === 0) return { blas: candidate };
    }
    return { reason: 'no CBLAS found (cblas.h and a library providing cblas_sgemm)' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function nodeGyp() {
  if (process.env.npm_config_node_gyp) return [process.execPath, process.env.npm_config_node_gyp];
  const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return [process.execPath, bundled];
  return ['node-gyp'];
}

function writeStatus(status) {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(join(buildDir, 'status.json'), `${JSON.stringify(status, null, 2)}\n`);
}

function build() {
  rmSync(buildDir, { recursive: true, force: true });
  const found = findBlas();
  if (!found.blas) return { built: false, reason: found.reason };
  const [command, ...args] = nodeGyp();
  // Build against the running Node's own headers when they are installed beside it, as
  // npm does when its nodedir is set, rather than downloading them.
  const prefix = join(dirname(process.execPath), '..');
  const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);
  const result = spawnSync(command, [...args, 'rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])], {
    cwd: nativeDir,
    env: { ...process.env, DLT_BLAS_FLAGS: JSON.stringify(found.blas) },
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`.trim();
    const tail = output.split('\n').slice(-15).join('\n');
    return { built: false, reason: `node-gyp failed to build the addon:\n${tail}` };
  }
  // Load it once in a separate process, so that a binary that builds but cannot load
  // (a missing shared library, say) is reported now rather than at every run.
  const addon = join(buildDir, 'Release', 'dlt_native.node');
  const check = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addon)}).info()`], { encoding: 'utf8' });
  if (check.status !== 0) return { built: false, reason: `the addon built but does not load: ${check.stderr.trim().split('\n')[0]}` };
  return { built: true, blas: found.blas.name };
}

const status = build();
writeStatus(status);
if (status.built) {
  console.log(`dlt: native backend built (${status.blas})`);
  // The default thread count, measured now (scripts/calibrate-threads.mjs), in a process
  // of its own so that nothing it does can fail the install.
  const calibration = spawnSync(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'calibrate-threads.mjs')], { encoding: 'utf8' });
  if (calibration.status === 0) console.log(calibration.stdout.trim());
  else
    console.log(`dlt: could not measure the best thread count (${(calibration.stderr ?? '').trim().split('\n')[0]}); the native backend will use 2`);
} else {
  console.log(`dlt: native backend not built: ${status.reason}\ndlt: using the JavaScript backend; ${HOW_TO_ENABLE}`);
}
