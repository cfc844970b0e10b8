// OpenBLAS's CPU kernels: measured at build time against OpenBLAS's own pick
// (scripts/calibrate-threads.mjs), applied before the addon loads (src/tensor/openblasCore.ts).
import { availableParallelism, cpus } from 'node:os';
import { describe, expect, it } from 'vitest';
import { CORES, chooseCore, cpuFlags } from '../scripts/calibrate-threads.mjs';
import { nativeStatus } from '../src/tensor/native.js';
import { openblasCore } from '../src/tensor/openblasCore.js';
import { tempDir } from './support/cli.js';

const times = (mlp: number, conv: number) => ({ 1: { mlp: mlp * 1.5, conv: conv * 1.5 }, 2: { mlp, conv } });

describe('choosing the core from the measured times', () => {
  it("keeps OpenBLAS's own pick unless another core beats it by the margin (5%), at each core's best thread count", () => {
    const own = { core: null, times: times(15, 18) };
    const haswell = { core: 'Haswell', times: times(5.3, 6) };
    const skylake = { core: 'SkylakeX', times: times(3.5, 3.6) };
    expect(chooseCore([own, haswell, skylake]).core).toBe('SkylakeX');
    expect(chooseCore([own, skylake, haswell]).core).toBe('SkylakeX');
    expect(chooseCore([{ core: null, times: times(3.5, 3.6) }, haswell, { core: 'SkylakeX', times: times(3.4, 3.5) }]).core).toBeNull();
    expect(chooseCore([own, { core: 'Haswell', times: times(14, 17) }]).core).toBe('Haswell');
    expect(chooseCore([own, { core: 'Haswell', times: times(14, 17) }], 0.1).core).toBeNull();
    expect(chooseCore([own]).core).toBeNull();
  });

  it('reads the CPU flags from a cpuinfo file, and none from a missing one', () => {
    const temp = tempDir();
    const file = temp.write('cpuinfo', 'processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\nbogomips\t: 4200\n\nprocessor\t: 1\nflags\t\t: fpu\n');
    expect(cpuFlags(file)).toEqual(['fpu', 'sse2', 'avx2', 'fma']);
    expect(cpuFlags(`${temp.dir}/none`)).toEqual([]);
    temp.cleanup();
  });
});

describe('applying the measured core', () => {
  const model = cpus()[0]?.model ?? '';
  const skylake = { name: 'SkylakeX', cpu: model, flags: CORES.SkylakeX };
  const record = (fields: object) =>
    JSON.stringify({ threads: 2, cpus: availableParallelism(), blas: 'OpenBLAS DYNAMIC_ARCH SkylakeX', date: '2026-12-01T11:00:00.000Z', ...fields });
  const avx512 = `flags\t: fpu ${CORES.SkylakeX!.join(' ')}\n`;

  it('sets the core measured fastest on this CPU, when the CPU has its flags', () => {
    const temp = tempDir();
    const file = temp.write('threads.json', record({ openblas_core: skylake }));
    const cpuinfo = temp.write('cpuinfo', avx512);
    expect(openblasCore({}, file, cpuinfo)).toEqual({
      core: 'SkylakeX',
      source: "measured faster than OpenBLAS's own pick when the addon was built (2026-12-01)",
    });
    temp.cleanup();
  });

  it('leaves OpenBLAS its own pick, saying why, in every other case', () => {
    const temp = tempDir();
    const file = temp.write('threads.json', record({ openblas_core: skylake }));
    const cpuinfo = temp.write('cpuinfo', avx512);
    const why = (env: Record<string, string>, f: string, info = cpuinfo) => openblasCore(env, f, info);
    expect(why({ OPENBLAS_CORETYPE: 'Haswell' }, file)).toEqual({ core: null, source: 'OPENBLAS_CORETYPE=Haswell is set' });
    expect(why({ OPENBLAS_CORETYPE: '' }, file).core).toBeNull();
    expect(why({}, file, temp.write('avx2', 'flags\t: fpu avx2 fma avx512f\n'))).toEqual({
      core: null,
      source: "OpenBLAS's own pick (this CPU lacks avx512cd, avx512bw, avx512dq, avx512vl for SkylakeX)",
    });
    expect(why({}, file, `${temp.dir}/no-cpuinfo`).core).toBeNull();
    expect(why({}, temp.write('other-model.json', record({ openblas_core: { ...skylake, cpu: `${model} (another)` } })))).toEqual({
      core: null,
      source: "OpenBLAS's own pick (SkylakeX was measured on another CPU)",
    });
    expect(why({}, temp.write('other-count.json', record({ openblas_core: skylake, cpus: availableParallelism() + 1 }))).core).toBeNull();
    expect(why({}, temp.write('own.json', record({ openblas_core: null })))).toEqual({
      core: null,
      source: "OpenBLAS's own pick, measured fastest when the addon was built",
    });
    expect(why({}, temp.write('older.json', record({})))).toEqual({
      core: null,
      source: "OpenBLAS's own pick, measured fastest when the addon was built",
    });
    expect(why({}, `${temp.dir}/missing.json`)).toEqual({
      core: null,
      source: "OpenBLAS's own pick (not measured (npm run build:native measures it))",
    });
    expect(why({}, temp.write('bad.json', record({ openblas_core: { ...skylake, name: 'Sky lake; rm' } }))).core).toBeNull();
    temp.cleanup();
  });

  const status = nativeStatus();
  it.skipIf(!status.loaded)('the loaded addon runs the core it was asked for', () => {
    if (!status.loaded) return;
    const config = status.addon.info().config.split(' ');
    if (status.core.core !== null) expect(config).toContain(status.core.core);
    else expect(status.core.source).toMatch(/own pick|is set/);
  });
});
