// Hardware CRC-32C. Kept in C because Swift cannot reach the crc32 instruction directly;
// the portable path lives in Swift (Checksums/CRC32C.swift).
#include "CKafkaCRC32C.h"
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>

#include <wmmintrin.h>

int ckafka_crc32c_hw_available(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    // SSE4.2 for crc32; PCLMULQDQ to combine interleaved streams (every SSE4.2 CPU
    // since Westmere has both).
    return (c & bit_SSE4_2) != 0 && (c & bit_PCLMUL) != 0;
}

// The crc32 instruction has a latency of 3 cycles but a throughput of 1 per cycle, so one
// dependency chain uses a third of it. Three streams over consecutive blocks A, B, C run in
// parallel and are merged with CRC linearity:
//   crc(c, A|B|C) = shift(crc(c, A), 2L) ^ shift(crc(0, B), L) ^ crc(0, C)
// where shift(v, n) multiplies v by x^(8n) mod P. With a carry-less multiply by
// K = x^(8n-33) mod P, the crc32 of the 64-bit product reduces it mod P and supplies the
// remaining x^33 (x^32 from the instruction, x^1 from bit reflection).
#define LONG_BLOCK 8192
#define SHORT_BLOCK 256
static const uint64_t K_LONG_1 = 0x54a86326;   // x^(8*8192-33) mod P, reflected
static const uint64_t K_LONG_2 = 0x1dc403cc;   // x^(8*16384-33)
static const uint64_t K_SHORT_1 = 0xb9e02b86;  // x^(8*256-33)
static const uint64_t K_SHORT_2 = 0xdd7e3b0c;  // x^(8*512-33)

__attribute__((target("sse4.2,pclmul")))
static inline uint32_t shift_by(uint32_t v, uint64_t k) {
    __m128i prod = _mm_clmulepi64_si128(_mm_cvtsi32_si128((int)v), _mm_cvtsi64_si128((long long)k), 0);
    return (uint32_t)_mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(prod));
}

__attribute__((target("sse4.2,pclmul")))
static inline uint64_t three_streams(uint64_t c, const uint8_t **pp, size_t *np, size_t block, uint64_t k1, uint64_t k2) {
    const uint8_t *p = *pp;
    size_t n = *np;
    while (n >= 3 * block) {
        uint64_t c0 = c, c1 = 0, c2 = 0;
        const uint8_t *end = p + block;
        while (p < end) {
            uint64_t w0, w1, w2;
            memcpy(&w0, p, 8); memcpy(&w1, p + block, 8); memcpy(&w2, p + 2 * block, 8);
            c0 = _mm_crc32_u64(c0, w0);
            c1 = _mm_crc32_u64(c1, w1);
            c2 = _mm_crc32_u64(c2, w2);
            p += 8;
        }
        c = shift_by((uint32_t)c0, k2) ^ shift_by((uint32_t)c1, k1) ^ (uint32_t)c2;
        p += 2 * block;
        n -= 3 * block;
    }
    *pp = p;
    *np = n;
    return c;
}

__attribute__((target("sse4.2,pclmul")))
uint32_t ckafka_crc32c_hw(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = crc;
    // Byte steps up to 8-byte alignment so the wide loads below are aligned.
    while (n > 0 && ((uintptr_t)p & 7) != 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        n--;
    }
    c = three_streams(c, &p, &n, LONG_BLOCK, K_LONG_1, K_LONG_2);
    c = three_streams(c, &p, &n, SHORT_BLOCK, K_SHORT_1, K_SHORT_2);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
        p += 8;
        n -= 8;
    }
    while (n > 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        n--;
    }
    return (uint32_t)c;
}

#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#include <arm_acle.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif

int ckafka_crc32c_hw_available(void) {
    return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
}

__attribute__((target("crc")))
uint32_t ckafka_crc32c_hw(uint32_t crc, const uint8_t *p, size_t n) {
    uint32_t c = crc;
    while (n > 0 && ((uintptr_t)p & 7) != 0) { c = __crc32cb(c, *p++); n--; }
    while (n >= 8) { uint64_t w; memcpy(&w, p, 8); c = __crc32cd(c, w); p += 8; n -= 8; }
    while (n > 0) { c = __crc32cb(c, *p++); n--; }
    return c;
}

#else

int ckafka_crc32c_hw_available(void) { return 0; }
uint32_t ckafka_crc32c_hw(uint32_t crc, const uint8_t *p, size_t n) { (void)p; (void)n; return crc; }

#endif
