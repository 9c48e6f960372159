//go:build amd64 && !purego

#include "textflag.h"
#include "lanes_amd64.h"

// The activation kernels (acts.go), 16 floats a step. Each step rounds as
// its Go twin does, one operation at a time (no fused multiply-add), so
// that both give the same bits. In the comments, Intel's operand order:
// Go's assembler takes the sources reversed (VSUBPS b, a, dst is a − b).

// BCAST broadcasts the 32-bit constant c to all lanes of z, through AX.
#define BCAST(c, z) \
	MOVL c, AX; \
	VPBROADCASTD AX, z

// func silu(y, d, x *float32, n int)
//
// Writes y = x·σ(x) and, where d is not nil, d = σ + y·(1−σ), for n
// vectors of 16 floats: σ = num/(1+e), e = e^t for t = max(−|x|, −87),
// num 1 where x ≥ 0 and e elsewhere (expNeg and Sigmoid in acts.go).
TEXT ·silu(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ d+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	BCAST($0x80000000, Z16) // sign bit
	BCAST($0xc2ae0000, Z17) // −87
	BCAST($0x3fb8aa3b, Z18) // log2(e)
	BCAST($0x4b400000, Z19) // 1.5·2^23
	BCAST($0x3f318000, Z20) // ln 2, high part
	BCAST($0xb95e8083, Z21) // ln 2, low part
	BCAST($0x39506967, Z22) // the polynomial, highest term first
	BCAST($0x3ab743ce, Z23)
	BCAST($0x3c088908, Z24)
	BCAST($0x3d2aa9c1, Z25)
	BCAST($0x3e2aaaaa, Z26)
	BCAST($0x3f000000, Z27)
	BCAST($0x3f800000, Z28) // 1
	BCAST($127, Z29)        // the exponent's bias
	VXORPS Z30, Z30, Z30

loop:
	TESTQ CX, CX
	JLE done
	VMOVUPS (SI), Z0
	VPORD Z16, Z0, Z1   // t = −|x|
	VMAXPS Z1, Z17, Z1  // max(−87, t): t where t is NaN
	VMULPS Z18, Z1, Z2  // k = t·log2(e)
	VADDPS Z19, Z2, Z2  // rounded to an integer
	VSUBPS Z19, Z2, Z2
	VMULPS Z20, Z2, Z3  // r = t − k·ln2Hi − k·ln2Lo
	VSUBPS Z3, Z1, Z3
	VMULPS Z21, Z2, Z4
	VSUBPS Z4, Z3, Z3
	VMULPS Z22, Z3, Z4  // p, by Horner's rule
	VADDPS Z23, Z4, Z4
	VMULPS Z3, Z4, Z4
	VADDPS Z24, Z4, Z4
	VMULPS Z3, Z4, Z4
	VADDPS Z25, Z4, Z4
	VMULPS Z3, Z4, Z4
	VADDPS Z26, Z4, Z4
	VMULPS Z3, Z4, Z4
	VADDPS Z27, Z4, Z4
	VMULPS Z3, Z3, Z5   // e^r = p·r² + r + 1
	VMULPS Z5, Z4, Z4
	VADDPS Z3, Z4, Z4
	VADDPS Z28, Z4, Z4
	VCVTPS2DQ Z2, Z5    // 2^k, from its exponent bits
	VPADDD Z29, Z5, Z5
	VPSLLD $23, Z5, Z5
	VMULPS Z5, Z4, Z4   // e
	VADDPS Z28, Z4, Z6  // 1 + e
	VCMPPS $0x1d, Z30, Z0, K1 // x ≥ 0
	VMOVAPS Z28, K1, Z4 // num
	VDIVPS Z6, Z4, Z7   // σ
	VMULPS Z7, Z0, Z8   // y
	VMOVUPS Z8, (DI)
	TESTQ DX, DX
	JZ next
	VSUBPS Z7, Z28, Z9  // 1 − σ
	VMULPS Z9, Z8, Z9
	VADDPS Z9, Z7, Z9
	VMOVUPS Z9, (DX)
	ADDQ $64, DX

next:
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JMP loop

done:
	VZEROUPPER
	RET

// func hardSwish(y, d, x *float32, n int, alpha, beta float32)
//
// Writes y = x·g, g = HardSigmoid(alpha·x+beta), and where d is not nil
// d = g, plus x·alpha where 0 < alpha·x+beta < 1 (or it is NaN), for n
// vectors of 16 floats.
TEXT ·hardSwish(SB), NOSPLIT, $0-40
	MOVQ y+0(FP), DI
	MOVQ d+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	VBROADCASTSS alpha+32(FP), Z16
	VBROADCASTSS beta+36(FP), Z17
	VXORPS Z18, Z18, Z18
	BCAST($0x3f800000, Z19) // 1

loop:
	TESTQ CX, CX
	JLE done
	VMOVUPS (SI), Z0
	VMULPS Z16, Z0, Z1        // v = alpha·x + beta
	VADDPS Z17, Z1, Z1
	VCMPPS $0x12, Z18, Z1, K1 // v ≤ 0
	VCMPPS $0x1d, Z19, Z1, K2 // v ≥ 1
	VMOVAPS Z1, Z2            // g
	VMOVAPS Z18, K1, Z2
	VMOVAPS Z19, K2, Z2
	VMULPS Z2, Z0, Z3         // y = x·g
	VMOVUPS Z3, (DI)
	TESTQ DX, DX
	JZ next
	KORW K1, K2, K3
	KNOTW K3, K3
	VMULPS.Z Z16, Z0, K3, Z4  // x·alpha inside, +0 outside
	VADDPS Z4, Z2, Z4
	VMOVUPS Z4, (DX)
	ADDQ $64, DX

next:
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JMP loop

done:
	VZEROUPPER
	RET

// CLIPQ does a quarter of a word for clipMask: the 16 floats at off(SI)
// limited to [Z16, Z17] at off(DI), and their y = x bits, shifted by sh,
// or'ed into R8.
#define CLIPQ(off, sh) \
	VMOVUPS off(SI), Z0; \
	VCMPPS $0x12, Z16, Z0, K1; \
	VMOVAPS Z0, Z1; \
	VMOVAPS Z16, K1, Z1; \
	VCMPPS $0x1d, Z17, Z1, K2; \
	VMOVAPS Z17, K2, Z1; \
	VMOVUPS Z1, off(DI); \
	VCMPPS $0x00, Z0, Z1, K3; \
	KMOVW K3, AX; \
	SHLQ $sh, AX; \
	ORQ AX, R8

// func clipMask(y, x *float32, m *uint64, words int, lo, hi float32)
//
// Writes y = x limited to [lo, hi] (lo where x ≤ lo, then hi where
// that is ≥ hi) and, where m is not nil, the mask of y = x, for words·64 floats.
TEXT ·clipMask(SB), NOSPLIT, $0-40
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ words+24(FP), CX
	VBROADCASTSS lo+32(FP), Z16
	VBROADCASTSS hi+36(FP), Z17

word:
	TESTQ CX, CX
	JLE done
	XORQ R8, R8
	CLIPQ(0, 0)
	CLIPQ(64, 16)
	CLIPQ(128, 32)
	CLIPQ(192, 48)
	TESTQ DX, DX
	JZ next
	MOVQ R8, (DX)
	ADDQ $8, DX

next:
	ADDQ $256, SI
	ADDQ $256, DI
	DECQ CX
	JMP word

done:
	VZEROUPPER
	RET

// func dot(a, b *float32, n int) float32
//
// The sum of a[i]·b[i] over i < n, in four vector accumulators of 16
// lanes as sum adds, each product fused into its accumulator.
TEXT ·dot(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3

four:
	CMPQ CX, $64
	JLT one
	VMOVUPS (SI), Z4
	VMOVUPS 64(SI), Z5
	VMOVUPS 128(SI), Z6
	VMOVUPS 192(SI), Z7
	VFMADD231PS (DI), Z4, Z0
	VFMADD231PS 64(DI), Z5, Z1
	VFMADD231PS 128(DI), Z6, Z2
	VFMADD231PS 192(DI), Z7, Z3
	ADDQ $256, SI
	ADDQ $256, DI
	SUBQ $64, CX
	JMP four

one:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI), Z4
	VFMADD231PS (DI), Z4, Z0
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP one

tail:
	LOWMASK(K1)
	VMOVUPS.Z (SI), K1, Z4
	VMOVUPS.Z (DI), K1, Z5
	VFMADD231PS Z5, Z4, Z1
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VADDPS X1, X0, X0
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET
