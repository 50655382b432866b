/* rng.h: a counter-based generator (the SplitMix64 finaliser over key + counter). The
 * value for counter i depends on nothing else, so every runner, schedule and task count
 * draws the same bits; peers in other languages reproduce it in a few lines. */
#ifndef PARLAB_RNG_H
#define PARLAB_RNG_H
#include <stdint.h>

#define RNG_GOLDEN 0x9E3779B97F4A7C15ull

static inline uint64_t rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The stream key for a seed. */
static inline uint64_t rng_key(uint64_t seed)
{
    return rng_mix(seed + RNG_GOLDEN);
}

/* The i-th 64-bit value of the stream `key`. */
static inline uint64_t rng_at(uint64_t key, uint64_t i)
{
    return rng_mix(key + (i + 1) * RNG_GOLDEN);
}

/* A double in [0, 1) from the top 53 bits. */
static inline double rng_unit(uint64_t r)
{
    return (double)(r >> 11) * 0x1.0p-53;
}
#endif
