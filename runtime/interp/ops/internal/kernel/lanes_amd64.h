// Macros the kernels' assembly files share.

// LOWMASK sets mask register k to the low CX lanes, (1 << CX) − 1, for a
// last, partial block of CX ≤ 16 floats. It overwrites AX, which it
// leaves holding the mask.
#define LOWMASK(k) \
	MOVQ $1, AX; \
	SHLQ CX, AX; \
	DECQ AX; \
	KMOVW AX, k

// HSUM adds the 16 lanes of Z0 into the lowest of X0, through Y1 and X1,
// halves onto halves (the Go twins' fold16).
#define HSUM \
	VEXTRACTF64X4 $1, Z0, Y1; \
	VADDPS Y1, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPS X1, X0, X0; \
	VPERMILPS $0x4e, X0, X1; \
	VADDPS X1, X0, X0; \
	VPERMILPS $0xb1, X0, X1; \
	VADDPS X1, X0, X0
