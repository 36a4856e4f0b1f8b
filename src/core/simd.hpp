// Function multiversioning for the hot kernels: TOMOSWEEP_KERNEL_CLONES makes an AVX2 clone (chosen at load
// time) next to the x86-64 baseline; TOMOSWEEP_INT_KERNEL_CLONES adds an AVX-512 clone for integer-only
// kernels, whose results cannot depend on the clone. Neither clone enables FMA, so floating-point kernels give
// the same bits on every x86-64 machine.
//
// ThreadSanitizer instruments the clones' ifunc resolver, which the loader runs before TSan's runtime is up (a
// crash at start): TSan builds (tools/test.sh, build-tsan) keep the baseline kernels alone.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define TOMOSWEEP_NO_CLONES
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TOMOSWEEP_NO_CLONES
#endif
#endif

#if defined(TOMOSWEEP_NO_CLONES) || !(defined(__x86_64__) && defined(__GNUC__))
#define TOMOSWEEP_KERNEL_CLONES
#define TOMOSWEEP_INT_KERNEL_CLONES
#else
#define TOMOSWEEP_KERNEL_CLONES [[gnu::target_clones("avx2", "default")]]
#define TOMOSWEEP_INT_KERNEL_CLONES [[gnu::target_clones("avx512f", "avx2", "default")]]
#endif

// Hand-written x86 kernels (functions with [[gnu::target("avx2")]] or "avx512f" and intrinsics) are compiled
// where this is defined; callers take them at run time when cpu_has_avx2() / cpu_has_avx512f() say so.
#if defined(__x86_64__) && defined(__GNUC__)
#define TOMOSWEEP_X86_KERNELS 1
#endif

namespace tomosweep {

// cpu_has_avx2(), cpu_has_avx512f(): whether the hand-written AVX2 (AVX-512F) kernels may run here: the CPU has
// the extension (asked once) and the build keeps vector kernels (TOMOSWEEP_NO_CLONES keeps the baseline code
// alone, as for the clones).
#if defined(TOMOSWEEP_X86_KERNELS) && !defined(TOMOSWEEP_NO_CLONES)
inline bool cpu_has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
inline bool cpu_has_avx512f() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}
#else
inline bool cpu_has_avx2() { return false; }
inline bool cpu_has_avx512f() { return false; }
#endif

} // namespace tomosweep
