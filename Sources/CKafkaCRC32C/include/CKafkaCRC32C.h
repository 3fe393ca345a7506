#ifndef CKAFKA_CRC32C_H
#define CKAFKA_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has a CRC-32C instruction we can use (SSE4.2 on x86_64, the ARMv8 CRC
/// extension on aarch64), 0 otherwise. Asks the CPU (cpuid / auxv); no cached state.
int ckafka_crc32c_hw_available(void);

/// Updates a raw (not pre/post inverted) CRC-32C register over `n` bytes with the CPU's
/// instruction. Only call when ckafka_crc32c_hw_available() returned 1.
uint32_t ckafka_crc32c_hw(uint32_t crc, const uint8_t *p, size_t n);

#endif
