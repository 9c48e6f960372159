// Macros the kernels' assembly files share.

// LOWMASK sets mask register k to the low CX lanes, (1 << CX) − 1, for a
// last, partial block of CX ≤ 16 floats. It overwrites AX, which it
// leaves holding the mask.
#define LOWMASK(k) \
	MOVQ $1, AX; \
	SHLQ CX, AX; \
	DECQ AX; \
	KMOVW AX, k
