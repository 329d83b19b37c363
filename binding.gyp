{
  # Each instruction set's kernel file is a static library with its own flags; the binding and
  # the scalar kernels stay at the target's baseline, so the addon loads on any CPU of the
  # architecture. Nothing is built with -march=native. -ffp-contract=off: the kernels round
  # where mish_math.h says (every FMA is written out); the compiler fuses nothing itself.
  "target_defaults": {
    "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-ffp-contract=off"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
    "xcode_settings": {
      "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "OTHER_CFLAGS": ["-ffp-contract=off"],
      "MACOSX_DEPLOYMENT_TARGET": "10.15"
    },
    "msvs_settings": {"VCCLCompilerTool": {"ExceptionHandling": 1}},
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"]
  },
  "targets": [
    {
      "target_name": "mish_avx2",
      "type": "static_library",
      "sources": ["native/kernels_avx2.cc"],
      "conditions": [
        ["target_arch=='x64'", {
          "cflags_cc": ["-mavx2", "-mfma"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma"]}
        }]
      ]
    },
    {
      "target_name": "mish_avx512",
      "type": "static_library",
      "sources": ["native/kernels_avx512.cc"],
      "conditions": [
        ["target_arch=='x64'", {
          "cflags_cc": ["-mavx512f", "-mfma"],
          "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mfma"]}
        }]
      ]
    },
    {
      "target_name": "mish_native",
      "dependencies": ["mish_avx2", "mish_avx512"],
      "sources": [
        "native/binding.cc",
        "native/dispatch.cc",
        "native/kernels_scalar.cc",
        "native/pool.cc"
      ],
      "conditions": [
        ["OS=='linux'", {"libraries": ["-ldl"]}]
      ]
    }
  ]
}
