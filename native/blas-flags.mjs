// Prints one list of build flags (defines | include_dirs | libraries) for binding.gyp,
// one per line, from the JSON that scripts/build-native.mjs puts in DLT_BLAS_FLAGS.
const flags = JSON.parse(process.env.DLT_BLAS_FLAGS ?? '{}');
const list = flags[process.argv[2]] ?? [];
process.stdout.write(list.join('\n'));
