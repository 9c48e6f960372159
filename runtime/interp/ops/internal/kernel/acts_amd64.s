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
	HSUM
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// The VPERMT2PS indices of the stride-2 shuffles: a lane takes lane i of
// the first table for index i < 16, lane i−16 of the second above
// (evenIdx and oddIdx are the package's: the depthwise rows kernels'
// stride-2 loads take them too).
DATA ·evenIdx+0(SB)/4, $0
DATA ·evenIdx+4(SB)/4, $2
DATA ·evenIdx+8(SB)/4, $4
DATA ·evenIdx+12(SB)/4, $6
DATA ·evenIdx+16(SB)/4, $8
DATA ·evenIdx+20(SB)/4, $10
DATA ·evenIdx+24(SB)/4, $12
DATA ·evenIdx+28(SB)/4, $14
DATA ·evenIdx+32(SB)/4, $16
DATA ·evenIdx+36(SB)/4, $18
DATA ·evenIdx+40(SB)/4, $20
DATA ·evenIdx+44(SB)/4, $22
DATA ·evenIdx+48(SB)/4, $24
DATA ·evenIdx+52(SB)/4, $26
DATA ·evenIdx+56(SB)/4, $28
DATA ·evenIdx+60(SB)/4, $30
GLOBL ·evenIdx(SB), RODATA|NOPTR, $64

DATA ·oddIdx+0(SB)/4, $1
DATA ·oddIdx+4(SB)/4, $3
DATA ·oddIdx+8(SB)/4, $5
DATA ·oddIdx+12(SB)/4, $7
DATA ·oddIdx+16(SB)/4, $9
DATA ·oddIdx+20(SB)/4, $11
DATA ·oddIdx+24(SB)/4, $13
DATA ·oddIdx+28(SB)/4, $15
DATA ·oddIdx+32(SB)/4, $17
DATA ·oddIdx+36(SB)/4, $19
DATA ·oddIdx+40(SB)/4, $21
DATA ·oddIdx+44(SB)/4, $23
DATA ·oddIdx+48(SB)/4, $25
DATA ·oddIdx+52(SB)/4, $27
DATA ·oddIdx+56(SB)/4, $29
DATA ·oddIdx+60(SB)/4, $31
GLOBL ·oddIdx(SB), RODATA|NOPTR, $64

DATA loIdx<>+0(SB)/4, $0
DATA loIdx<>+4(SB)/4, $16
DATA loIdx<>+8(SB)/4, $1
DATA loIdx<>+12(SB)/4, $17
DATA loIdx<>+16(SB)/4, $2
DATA loIdx<>+20(SB)/4, $18
DATA loIdx<>+24(SB)/4, $3
DATA loIdx<>+28(SB)/4, $19
DATA loIdx<>+32(SB)/4, $4
DATA loIdx<>+36(SB)/4, $20
DATA loIdx<>+40(SB)/4, $5
DATA loIdx<>+44(SB)/4, $21
DATA loIdx<>+48(SB)/4, $6
DATA loIdx<>+52(SB)/4, $22
DATA loIdx<>+56(SB)/4, $7
DATA loIdx<>+60(SB)/4, $23
GLOBL loIdx<>(SB), RODATA|NOPTR, $64

DATA hiIdx<>+0(SB)/4, $8
DATA hiIdx<>+4(SB)/4, $24
DATA hiIdx<>+8(SB)/4, $9
DATA hiIdx<>+12(SB)/4, $25
DATA hiIdx<>+16(SB)/4, $10
DATA hiIdx<>+20(SB)/4, $26
DATA hiIdx<>+24(SB)/4, $11
DATA hiIdx<>+28(SB)/4, $27
DATA hiIdx<>+32(SB)/4, $12
DATA hiIdx<>+36(SB)/4, $28
DATA hiIdx<>+40(SB)/4, $13
DATA hiIdx<>+44(SB)/4, $29
DATA hiIdx<>+48(SB)/4, $14
DATA hiIdx<>+52(SB)/4, $30
DATA hiIdx<>+56(SB)/4, $15
DATA hiIdx<>+60(SB)/4, $31
GLOBL hiIdx<>(SB), RODATA|NOPTR, $64

// ELEMENTWISE writes (DI)[j] = (SI)[j] op b_j for j < 16·CX, two vectors
// a step while two are left: op VMULPS or VADDPS with b the vector at
// (DX) (boff 64, bstep 128), or op VMULPS.BCST or VADDPS.BCST with b the
// scalar at (DX) (boff 0, bstep 0). DI may be SI or DX. The functions
// load their arguments first: go vet reads a macro's lines as the
// preceding function's.
#define ELEMENTWISE(op, boff, bstep) \
loop2: \
	CMPQ CX, $2 \
	JLT loop1 \
	VMOVUPS (SI), Z0 \
	VMOVUPS 64(SI), Z1 \
	op (DX), Z0, Z0 \
	op boff(DX), Z1, Z1 \
	VMOVUPS Z0, (DI) \
	VMOVUPS Z1, 64(DI) \
	ADDQ $128, SI \
	ADDQ $bstep, DX \
	ADDQ $128, DI \
	SUBQ $2, CX \
	JMP loop2 \
loop1: \
	TESTQ CX, CX \
	JLE done \
	VMOVUPS (SI), Z0 \
	op (DX), Z0, Z0 \
	VMOVUPS Z0, (DI) \
done: \
	VZEROUPPER \
	RET

// func mul(dst, a, b *float32, n int)
TEXT ·mul(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	ELEMENTWISE(VMULPS, 64, 128)

// func add(dst, a, b *float32, n int)
TEXT ·add(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	ELEMENTWISE(VADDPS, 64, 128)

// func deinterleave(even, odd, src *float32, n int)
//
// Writes even[j] = src[2j] and odd[j] = src[2j+1] for j < 16n.
TEXT ·deinterleave(SB), NOSPLIT, $0-32
	MOVQ even+0(FP), DI
	MOVQ odd+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	VMOVUPS ·evenIdx(SB), Z8
	VMOVUPS ·oddIdx(SB), Z9

dloop:
	TESTQ CX, CX
	JLE ddone
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVAPS Z0, Z2
	VPERMT2PS Z1, Z8, Z2
	VPERMT2PS Z1, Z9, Z0
	VMOVUPS Z2, (DI)
	VMOVUPS Z0, (DX)
	ADDQ $128, SI
	ADDQ $64, DI
	ADDQ $64, DX
	DECQ CX
	JMP dloop

ddone:
	VZEROUPPER
	RET

// func interleave(dst, even, odd *float32, n int)
//
// Writes dst[2j] = even[j] and dst[2j+1] = odd[j] for j < 16n.
TEXT ·interleave(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ even+8(FP), SI
	MOVQ odd+16(FP), DX
	MOVQ n+24(FP), CX
	VMOVUPS loIdx<>(SB), Z8
	VMOVUPS hiIdx<>(SB), Z9

iloop:
	TESTQ CX, CX
	JLE idone
	VMOVUPS (SI), Z0
	VMOVUPS (DX), Z1
	VMOVAPS Z0, Z2
	VPERMT2PS Z1, Z8, Z2
	VPERMT2PS Z1, Z9, Z0
	VMOVUPS Z2, (DI)
	VMOVUPS Z0, 64(DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $128, DI
	DECQ CX
	JMP iloop

idone:
	VZEROUPPER
	RET

// func scale(dst, src *float32, c float32, n int)
TEXT ·scale(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	LEAQ c+16(FP), DX
	MOVQ n+24(FP), CX
	ELEMENTWISE(VMULPS.BCST, 0, 0)

// func shift(dst, src *float32, c float32, n int)
TEXT ·shift(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	LEAQ c+16(FP), DX
	MOVQ n+24(FP), CX
	ELEMENTWISE(VADDPS.BCST, 0, 0)

// func fill(dst *float32, c float32, n int)
//
// Writes c to dst[j] for j < 16n.
TEXT ·fill(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	VBROADCASTSS c+8(FP), Z0
	MOVQ n+16(FP), CX
floop:
	TESTQ CX, CX
	JLE fdone
	VMOVUPS Z0, (DI)
	ADDQ $64, DI
	DECQ CX
	JMP floop
fdone:
	VZEROUPPER
	RET
