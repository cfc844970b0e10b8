# Built by scripts/build-native.mjs, which first finds a CBLAS and passes its flags in
# DLT_BLAS_FLAGS (JSON). Run through npm install, or `npm run build:native`.
{
  "targets": [
    {
      "target_name": "dlt_native",
      "sources": ["dlt_native.c", "work_pool.c"],
      "cflags": ["-O3", "-std=c11", "-ffp-contract=off", "-fno-math-errno", "-Wall", "-Wextra"],
      "defines": ["NAPI_VERSION=8", "<!@(node blas-flags.mjs defines)"],
      "include_dirs": ["<!@(node blas-flags.mjs include_dirs)"],
      "libraries": ["<!@(node blas-flags.mjs libraries)"],
      "xcode_settings": {"OTHER_CFLAGS": ["-O3", "-std=c11", "-ffp-contract=off", "-fno-math-errno"]}
    }
  ]
}
