//go:build amd64 && !purego

#include "textflag.h"

// The Relu bit masks: one bit per element, element i at bit i%64 of word
// i/64, set where the value is positive. A word covers 64 floats, four
// vectors; each vector's compare writes 16 bits into a mask register.

// RELUQ does a quarter of a word for reluMask: the 16 floats at off(SI)
// become max(x, 0) at off(DI) (kept where x > 0 or x is NaN, +0
// elsewhere, as Go's max(x, 0)), and their x > 0 bits, shifted by sh, are
// or'ed into R8. Z31 holds zeros.
#define RELUQ(off, sh) \
	VMOVUPS off(SI), Z0; \
	VCMPPS $0x09, Z0, Z31, K1; \
	VCMPPS $0x11, Z0, Z31, K2; \
	VMOVUPS.Z Z0, K1, Z1; \
	VMOVUPS Z1, off(DI); \
	KMOVW K2, AX; \
	SHLQ $sh, AX; \
	ORQ AX, R8

// func reluMask(y, x *float32, m *uint64, words int)
//
// Writes y = max(x, 0) and the mask of x > 0 for words·64 floats.
TEXT ·reluMask(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ words+24(FP), CX
	VXORPS Z31, Z31, Z31

word:
	TESTQ CX, CX
	JLE done
	XORQ R8, R8
	RELUQ(0, 0)
	RELUQ(64, 16)
	RELUQ(128, 32)
	RELUQ(192, 48)
	MOVQ R8, (DX)
	ADDQ $256, SI
	ADDQ $256, DI
	ADDQ $8, DX
	DECQ CX
	JMP word

done:
	VZEROUPPER
	RET

// POSQ or's into R8, shifted by sh, the y > 0 bits of the 16 floats at
// off(SI). Z31 holds zeros.
#define POSQ(off, sh) \
	VCMPPS $0x11, off(SI), Z31, K1; \
	KMOVW K1, AX; \
	SHLQ $sh, AX; \
	ORQ AX, R8

// func positiveMask(m *uint64, y *float32, words int)
//
// Writes the mask of y > 0 for words·64 floats.
TEXT ·positiveMask(SB), NOSPLIT, $0-24
	MOVQ m+0(FP), DX
	MOVQ y+8(FP), SI
	MOVQ words+16(FP), CX
	VXORPS Z31, Z31, Z31

word:
	TESTQ CX, CX
	JLE done
	XORQ R8, R8
	POSQ(0, 0)
	POSQ(64, 16)
	POSQ(128, 32)
	POSQ(192, 48)
	MOVQ R8, (DX)
	ADDQ $256, SI
	ADDQ $8, DX
	DECQ CX
	JMP word

done:
	VZEROUPPER
	RET

// func passMask(dx, dy *float32, m *uint64, words int)
//
// Writes dx = dy where the mask's bit is set and +0 elsewhere, for
// words·64 floats: the gradient through a Relu.
TEXT ·passMask(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ words+24(FP), CX

word:
	TESTQ CX, CX
	JLE done
	MOVQ (DX), R8
	KMOVW R8, K1
	SHRQ $16, R8
	KMOVW R8, K2
	SHRQ $16, R8
	KMOVW R8, K3
	SHRQ $16, R8
	KMOVW R8, K4
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS.Z 128(SI), K3, Z2
	VMOVUPS.Z 192(SI), K4, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ $256, SI
	ADDQ $256, DI
	ADDQ $8, DX
	DECQ CX
	JMP word

done:
	VZEROUPPER
	RET
