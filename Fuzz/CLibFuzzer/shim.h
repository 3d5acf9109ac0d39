// libFuzzer's driver, from the toolchain's compiler-rt (libclang_rt.fuzzer_no_main). Only scripts/fuzz.sh links it,
// and only code compiled with -D FUZZING calls it; a normal build never references the symbol.
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer with its command line (flags, corpus folders) on `callback`; returns its exit status.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
