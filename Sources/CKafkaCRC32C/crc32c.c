// Hardware CRC-32C. Kept in C because Swift cannot reach the crc32 instruction directly;
// the portable path lives in Swift (Checksums/CRC32C.swift).
#include "CKafkaCRC32C.h"
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>

int ckafka_crc32c_hw_available(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    return (c & bit_SSE4_2) != 0;
}

__attribute__((target("sse4.2")))
uint32_t ckafka_crc32c_hw(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = crc;
    // Byte steps up to 8-byte alignment so the wide loads below are aligned.
    while (n > 0 && ((uintptr_t)p & 7) != 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        n--;
    }
    // Four independent loads per iteration keep the load port busy while the crc32
    // instructions (latency 3, one stream) chain.
    while (n >= 32) {
        uint64_t w0, w1, w2, w3;
        memcpy(&w0, p, 8); memcpy(&w1, p + 8, 8); memcpy(&w2, p + 16, 8); memcpy(&w3, p + 24, 8);
        c = _mm_crc32_u64(c, w0);
        c = _mm_crc32_u64(c, w1);
        c = _mm_crc32_u64(c, w2);
        c = _mm_crc32_u64(c, w3);
        p += 32;
        n -= 32;
    }
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
