# Sourced by pkg-scripts/build and pkg-scripts/test: how cargo builds (or lints) the threaded wasm
# module. Shared memory needs the standard library rebuilt with atomics, which stable Rust allows
# only with RUSTC_BOOTSTRAP=1 (it unlocks -Z build-std; the rust-src component comes from
# pkg-scripts/setup). Its own target folder, so that its flags never invalidate the other
# modules' builds. The memory's maximum is fixed (shared memory cannot grow past it): 4 GiB,
# wasm32's whole address space; the exports are the ones wasm-bindgen's thread support needs.
threads_rustflags="-C target-feature=+simd128,+atomics,+bulk-memory,+mutable-globals \
-C link-arg=--shared-memory -C link-arg=--max-memory=4294967296 -C link-arg=--import-memory \
-C link-arg=--export=__wasm_init_tls -C link-arg=--export=__tls_size \
-C link-arg=--export=__tls_align -C link-arg=--export=__tls_base"

# `threads_cargo <subcommand> [args]`: cargo for the threaded module, in $1's target folder.
threads_cargo() {
  local sub=$1
  shift
  RUSTC_BOOTSTRAP=1 RUSTFLAGS="$threads_rustflags" cargo "$sub" --target wasm32-unknown-unknown \
    -Z build-std=std,panic_abort --target-dir "${CARGO_TARGET_DIR:-target}/threads" "$@"
}
