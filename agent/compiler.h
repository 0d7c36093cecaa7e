/*
 * compiler.h - what the sources ask of the compiler
 *
 * L2S_PRINTF(f, a) marks a function that formats like printf (argument f is
 * the format, the values start at argument a), so that the compiler checks
 * every call.  The dialect is the platform's printf unless the build says
 * otherwise: the Windows build uses mingw-w64's C99 stdio (%zu, %lld) and
 * sets L2S_PRINTF_DIALECT=gnu_printf, since "printf" there means
 * Microsoft's.
 *
 * L2S_PREFETCH(p) asks the memory for the line at p and returns at once: a
 * hint, which never faults (p may be NULL or stale) and changes no result.
 *
 * L2S_LITTLE_ENDIAN is 1 where the first byte of an integer in memory is
 * its lowest (x86, ARM as Linux and Windows run it), else 0.
 */
#ifndef L2S_COMPILER_H
#define L2S_COMPILER_H

#ifndef L2S_PRINTF_DIALECT
#define L2S_PRINTF_DIALECT printf
#endif

#define L2S_PRINTF(f, a) __attribute__((format(L2S_PRINTF_DIALECT, f, a)))

#define L2S_PREFETCH(p) __builtin_prefetch(p)

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define L2S_LITTLE_ENDIAN 0
#else
#define L2S_LITTLE_ENDIAN 1
#endif

#endif
