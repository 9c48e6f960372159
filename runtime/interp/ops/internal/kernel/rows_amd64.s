//go:build amd64 && !purego

#include "textflag.h"
#include "lanes_amd64.h"

// The 4-row loops of depthwiseRows. Rows r = 0..3 of a block read
// base + r·R11 (R12 = 3·R11); their inputs go to Z5..Z8, their
// accumulators are Z0..Z3, and Z4 holds the tap's weight.
#define LOAD4(off, base, k, z0, z1, z2, z3) \
	VMOVUPS.Z off(base), k, z0; \
	VMOVUPS.Z off(base)(R11*1), k, z1; \
	VMOVUPS.Z off(base)(R11*2), k, z2; \
	VMOVUPS.Z off(base)(R12*1), k, z3

#define FMA4 \
	VFMADD231PS Z5, Z4, K1, Z0; \
	VFMADD231PS Z6, Z4, K1, Z1; \
	VFMADD231PS Z7, Z4, K1, Z2; \
	VFMADD231PS Z8, Z4, K1, Z3

// T3ROW1 is one row of depthwiseRowsGrad3 at stride 1: each tap's input
// lanes (x0, x1, x2: the row's columns from the tap's first) under its
// mask, times dY's row dy, into the tap's accumulator for the row.
#define T3ROW1(x0, x1, x2, dy, a0, a1, a2) \
	VMOVUPS.Z x0, K1, Z16; \
	VMOVUPS.Z x1, K2, Z17; \
	VMOVUPS.Z x2, K3, Z18; \
	VFMADD231PS Z16, dy, K1, a0; \
	VFMADD231PS Z17, dy, K2, a1; \
	VFMADD231PS Z18, dy, K3, a2

// T3ROW2 is one row at stride 2: the 32 input lanes from tap 0's first
// column (lo, hi under K5, K6) give tap 0 their even lanes and tap 1
// their odd ones; the 32 from tap 2's (lo2, hi2 under K7, K4) tap 2
// their even ones.
#define T3ROW2(lo, hi, lo2, hi2, dy, a0, a1, a2) \
	VMOVUPS.Z lo, K5, Z16; \
	VMOVUPS.Z hi, K6, Z17; \
	VMOVUPS.Z lo2, K7, Z18; \
	VMOVUPS.Z hi2, K4, Z19; \
	VMOVAPS Z16, Z20; \
	VPERMT2PS Z17, Z31, Z16; \
	VPERMT2PS Z17, Z30, Z20; \
	VPERMT2PS Z19, Z31, Z18; \
	VFMADD231PS Z16, dy, K1, a0; \
	VFMADD231PS Z20, dy, K2, a1; \
	VFMADD231PS Z18, dy, K3, a2

// TAPMASKS loads tap R9's mask K1 and, for stride 2 and the transposed
// layout, its load masks K2 and K3.
#define TAPMASKS \
	KMOVW (R15)(R9*8), K1; \
	KMOVW 2(R15)(R9*8), K2; \
	KMOVW 4(R15)(R9*8), K3

// NEXTTAP loops to label while taps are left in the kernel row.
#define NEXTTAP(label) \
	INCQ R9; \
	CMPQ R9, 56(R14); \
	JLT label


// func depthwiseRows(a *rowArgs)
//
// DepthwisePlanes on the argument block (rows.go): plane after plane
// (each its bias, or zero), run after run of the plane's rows (its
// output, input and kernel rows, the loop's place kept in the block's
// integer fields, which hold no pointer the collector reads),
// four output rows at a
// time, one 16-pixel block of each, the four accumulators (Z0..Z3) over
// the kernel's rows and taps, the tap's weight broadcast once for the
// four rows and its lane mask loaded once (K1), the loads and the
// multiply-adds under it, so that the padding columns are left out and
// nothing outside the image is read; at stride 2 each tap loads 32 input
// lanes (K2, K3) and keeps the even ones (VPERMT2PS); on a transposed
// layout (stride 3 in the block) it loads 8 input lanes (K2) from the
// tap's column and spreads them to every other lane (K3). Then the rows
// left, one at a time. Each block is stored under the row's lanes (K1).
TEXT ·depthwiseRows(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), R14
	MOVQ 72(R14), R11
	LEAQ (R11)(R11*2), R12
	VXORPS Z14, Z14, Z14
	VMOVUPS ·evenIdx(SB), Z31
	MOVQ 0(R14), AX
	MOVQ AX, 192(R14)
	MOVQ 8(R14), AX
	MOVQ AX, 200(R14)
	MOVQ 16(R14), AX
	MOVQ AX, 208(R14)

plane:
	CMPQ 152(R14), $0
	JLE done
	VXORPS Z13, Z13, Z13
	MOVQ 184(R14), AX
	TESTQ AX, AX
	JZ runs
	VBROADCASTSS (AX), Z13
	ADDQ $4, AX
	MOVQ AX, 184(R14)

runs:
	MOVQ 136(R14), AX
	MOVQ AX, 216(R14)
	MOVQ 144(R14), AX
	MOVQ AX, 224(R14)

run:
	MOVQ 216(R14), AX
	MOVQ 192(R14), DI
	ADDQ 0(AX), DI
	MOVQ 200(R14), SI
	ADDQ 8(AX), SI
	MOVQ 208(R14), BX
	ADDQ 16(AX), BX
	MOVQ BX, 128(R14)
	MOVQ 24(AX), R8
	MOVQ 32(AX), BX
	MOVQ BX, 48(R14)

group4:
	CMPQ R8, $4
	JLT one
	XORQ BX, BX
	MOVQ 24(R14), R15
	MOVQ SI, R13
	ADDQ 88(R14), R13

g4block:
	VMOVAPS Z13, Z0
	VMOVAPS Z13, Z1
	VMOVAPS Z13, Z2
	VMOVAPS Z13, Z3
	MOVQ 128(R14), DX
	MOVQ R13, R10
	MOVQ 48(R14), CX
	TESTQ CX, CX
	JZ g4relu

g4krow:
	XORQ R9, R9
	CMPQ 120(R14), $2
	JEQ g4tap2
	JGT g4tapup

g4tap1:
	KMOVW (R15)(R9*8), K1
	VBROADCASTSS (DX)(R9*4), Z4
	LEAQ (R10)(R9*4), AX
	LOAD4(0, AX, K1, Z5, Z6, Z7, Z8)
	FMA4
	NEXTTAP(g4tap1)
	JMP g4krownext

g4tap2:
	TAPMASKS
	VBROADCASTSS (DX)(R9*4), Z4
	LEAQ (R10)(R9*4), AX
	LOAD4(0, AX, K2, Z5, Z6, Z7, Z8)
	LOAD4(64, AX, K3, Z9, Z10, Z11, Z12)
	VPERMT2PS Z9, Z31, Z5
	VPERMT2PS Z10, Z31, Z6
	VPERMT2PS Z11, Z31, Z7
	VPERMT2PS Z12, Z31, Z8
	FMA4
	NEXTTAP(g4tap2)
	JMP g4krownext

g4tapup:
	TAPMASKS
	MOVWQSX 6(R15)(R9*8), AX
	LEAQ (R10)(AX*4), AX
	VBROADCASTSS (DX)(R9*4), Z4
	LOAD4(0, AX, K2, Z5, Z6, Z7, Z8)
	VEXPANDPS.Z Z5, K3, Z5
	VEXPANDPS.Z Z6, K3, Z6
	VEXPANDPS.Z Z7, K3, Z7
	VEXPANDPS.Z Z8, K3, Z8
	FMA4
	NEXTTAP(g4tapup)

g4krownext:
	MOVQ 56(R14), AX
	LEAQ (DX)(AX*4), DX
	ADDQ 80(R14), R10
	DECQ CX
	JNZ g4krow

g4relu:
	CMPQ 112(R14), $0
	JEQ g4store
	VMAXPS Z14, Z0, Z0
	VMAXPS Z14, Z1, Z1
	VMAXPS Z14, Z2, Z2
	VMAXPS Z14, Z3, Z3

g4store:
	MOVQ 56(R14), AX
	KMOVW (R15)(AX*8), K1
	MOVQ BX, AX
	SHLQ $6, AX
	ADDQ DI, AX
	MOVQ 64(R14), R9
	VMOVUPS Z0, K1, (AX)
	VMOVUPS Z1, K1, (AX)(R9*1)
	VMOVUPS Z2, K1, (AX)(R9*2)
	LEAQ (AX)(R9*2), AX
	VMOVUPS Z3, K1, (AX)(R9*1)
	ADDQ 104(R14), R15
	ADDQ 96(R14), R13
	INCQ BX
	CMPQ BX, 40(R14)
	JLT g4block

	MOVQ 64(R14), AX
	LEAQ (DI)(AX*4), DI
	LEAQ (SI)(R11*4), SI
	SUBQ $4, R8
	JMP group4

one:
	TESTQ R8, R8
	JLE nextrun
	XORQ BX, BX
	MOVQ 24(R14), R15
	MOVQ SI, R13
	ADDQ 88(R14), R13

o1block:
	VMOVAPS Z13, Z0
	MOVQ 128(R14), DX
	MOVQ R13, R10
	MOVQ 48(R14), CX
	TESTQ CX, CX
	JZ o1relu

o1krow:
	XORQ R9, R9
	CMPQ 120(R14), $2
	JEQ o1tap2
	JGT o1tapup

o1tap1:
	KMOVW (R15)(R9*8), K1
	VBROADCASTSS (DX)(R9*4), Z4
	VMOVUPS.Z (R10)(R9*4), K1, Z5
	VFMADD231PS Z5, Z4, K1, Z0
	NEXTTAP(o1tap1)
	JMP o1krownext

o1tap2:
	TAPMASKS
	VBROADCASTSS (DX)(R9*4), Z4
	LEAQ (R10)(R9*4), AX
	VMOVUPS.Z (AX), K2, Z5
	VMOVUPS.Z 64(AX), K3, Z9
	VPERMT2PS Z9, Z31, Z5
	VFMADD231PS Z5, Z4, K1, Z0
	NEXTTAP(o1tap2)
	JMP o1krownext

o1tapup:
	TAPMASKS
	MOVWQSX 6(R15)(R9*8), AX
	VBROADCASTSS (DX)(R9*4), Z4
	VMOVUPS.Z (R10)(AX*4), K2, Z5
	VEXPANDPS.Z Z5, K3, Z5
	VFMADD231PS Z5, Z4, K1, Z0
	NEXTTAP(o1tapup)

o1krownext:
	MOVQ 56(R14), AX
	LEAQ (DX)(AX*4), DX
	ADDQ 80(R14), R10
	DECQ CX
	JNZ o1krow

o1relu:
	CMPQ 112(R14), $0
	JEQ o1store
	VMAXPS Z14, Z0, Z0

o1store:
	MOVQ 56(R14), AX
	KMOVW (R15)(AX*8), K1
	MOVQ BX, AX
	SHLQ $6, AX
	ADDQ DI, AX
	VMOVUPS Z0, K1, (AX)
	ADDQ 104(R14), R15
	ADDQ 96(R14), R13
	INCQ BX
	CMPQ BX, 40(R14)
	JLT o1block

	ADDQ 64(R14), DI
	ADDQ R11, SI
	DECQ R8
	JMP one

nextrun:
	ADDQ $40, 216(R14)
	DECQ 224(R14)
	JNZ run
	MOVQ 160(R14), AX
	ADDQ AX, 192(R14)
	MOVQ 168(R14), AX
	ADDQ AX, 200(R14)
	MOVQ 176(R14), AX
	ADDQ AX, 208(R14)
	DECQ 152(R14)
	JMP plane

done:
	VZEROUPPER
	RET


// func depthwiseRowsGrad(a *rowArgs)
//
// DepthwiseRowsGrad on the argument block (out the kw sums added to, w
// dY, oRow dY's row step): a tap at a time, four rows at a time, row r of
// a group into accumulator r (Z0..Z3), dY's and the tap's input lanes
// loaded under the tap's mask (K1; at stride 2 the input's 32 lanes
// under K2, K3, the even ones kept); the rows past the last group into
// Z0 one by one. The accumulators are then summed, (Z0+Z1)+(Z2+Z3), its
// lanes folded in halves, and added to the tap's sum.
TEXT ·depthwiseRowsGrad(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), R14
	MOVQ 64(R14), R11
	MOVQ 72(R14), R12
	VMOVUPS ·evenIdx(SB), Z31
	XORQ R9, R9

gtap:
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	MOVQ 8(R14), SI
	ADDQ 88(R14), SI
	LEAQ (SI)(R9*4), SI
	MOVQ 16(R14), DI
	MOVQ 32(R14), R8

ggroup:
	CMPQ R8, $4
	JLT gone
	XORQ BX, BX
	MOVQ 24(R14), R15
	MOVQ SI, R10
	MOVQ DI, R13

gblock:
	KMOVW (R15)(R9*8), K1
	VMOVUPS.Z (R13), K1, Z4
	VMOVUPS.Z (R13)(R11*1), K1, Z5
	VMOVUPS.Z (R13)(R11*2), K1, Z6
	LEAQ (R13)(R11*2), AX
	VMOVUPS.Z (AX)(R11*1), K1, Z7
	LEAQ (R10)(R12*2), AX
	CMPQ 120(R14), $2
	JEQ gblock2
	VMOVUPS.Z (R10), K1, Z8
	VMOVUPS.Z (R10)(R12*1), K1, Z9
	VMOVUPS.Z (AX), K1, Z10
	VMOVUPS.Z (AX)(R12*1), K1, Z11
	JMP gblockfma

gblock2:
	KMOVW 2(R15)(R9*8), K2
	KMOVW 4(R15)(R9*8), K3
	VMOVUPS.Z (R10), K2, Z8
	VMOVUPS.Z 64(R10), K3, Z12
	VMOVUPS.Z (R10)(R12*1), K2, Z9
	VMOVUPS.Z 64(R10)(R12*1), K3, Z13
	VMOVUPS.Z (AX), K2, Z10
	VMOVUPS.Z 64(AX), K3, Z14
	VMOVUPS.Z (AX)(R12*1), K2, Z11
	VMOVUPS.Z 64(AX)(R12*1), K3, Z15
	VPERMT2PS Z12, Z31, Z8
	VPERMT2PS Z13, Z31, Z9
	VPERMT2PS Z14, Z31, Z10
	VPERMT2PS Z15, Z31, Z11

gblockfma:
	VFMADD231PS Z8, Z4, K1, Z0
	VFMADD231PS Z9, Z5, K1, Z1
	VFMADD231PS Z10, Z6, K1, Z2
	VFMADD231PS Z11, Z7, K1, Z3
	ADDQ $64, R13
	ADDQ 96(R14), R10
	ADDQ 104(R14), R15
	INCQ BX
	CMPQ BX, 40(R14)
	JLT gblock

	LEAQ (DI)(R11*4), DI
	LEAQ (SI)(R12*4), SI
	SUBQ $4, R8
	JMP ggroup

gone:
	TESTQ R8, R8
	JLE gsum
	XORQ BX, BX
	MOVQ 24(R14), R15
	MOVQ SI, R10
	MOVQ DI, R13

goneblock:
	KMOVW (R15)(R9*8), K1
	VMOVUPS.Z (R13), K1, Z4
	CMPQ 120(R14), $2
	JEQ goneblock2
	VMOVUPS.Z (R10), K1, Z8
	JMP gonefma

goneblock2:
	KMOVW 2(R15)(R9*8), K2
	KMOVW 4(R15)(R9*8), K3
	VMOVUPS.Z (R10), K2, Z8
	VMOVUPS.Z 64(R10), K3, Z12
	VPERMT2PS Z12, Z31, Z8

gonefma:
	VFMADD231PS Z8, Z4, K1, Z0
	ADDQ $64, R13
	ADDQ 96(R14), R10
	ADDQ 104(R14), R15
	INCQ BX
	CMPQ BX, 40(R14)
	JLT goneblock

	ADDQ R11, DI
	ADDQ R12, SI
	DECQ R8
	JMP gone

gsum:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUM
	MOVQ 0(R14), AX
	VADDSS (AX)(R9*4), X0, X0
	VMOVSS X0, (AX)(R9*4)
	INCQ R9
	CMPQ R9, 56(R14)
	JLT gtap

	VZEROUPPER
	RET


// func depthwiseRowsGrad3(a *rowArgs)
//
// depthwiseRowsGrad for three taps a kernel row (kw = 3), the three at
// once: a block's four rows of dY are loaded once for all three taps
// (under K4, the lanes any tap reads), not once a tap, and at stride 2
// one pair of 32-lane loads serves taps 0 and 1 (even and odd lanes),
// another tap 2. Tap kj's row r sums into Z(4kj+r) under its mask (K1,
// K2, K3), in the order depthwiseRowsGrad adds them, and the taps' sums
// fold as its do: the results are its, bit for bit.
TEXT ·depthwiseRowsGrad3(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), R14
	MOVQ 64(R14), R11
	MOVQ 72(R14), R12
	VMOVUPS ·evenIdx(SB), Z31
	VMOVUPS rowOddIdx<>(SB), Z30
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3
	VXORPS Z4, Z4, Z4
	VXORPS Z5, Z5, Z5
	VXORPS Z6, Z6, Z6
	VXORPS Z7, Z7, Z7
	VXORPS Z8, Z8, Z8
	VXORPS Z9, Z9, Z9
	VXORPS Z10, Z10, Z10
	VXORPS Z11, Z11, Z11
	MOVQ 8(R14), SI
	ADDQ 88(R14), SI
	MOVQ 16(R14), DI
	MOVQ 32(R14), R8

t3group:
	CMPQ R8, $4
	JLT t3one
	XORQ BX, BX
	MOVQ 24(R14), R15
	MOVQ SI, R10
	MOVQ DI, R13

t3block:
	KMOVW (R15), K1
	KMOVW 8(R15), K2
	KMOVW 16(R15), K3
	KORW K1, K2, K4
	KORW K3, K4, K4
	VMOVUPS.Z (R13), K4, Z12
	VMOVUPS.Z (R13)(R11*1), K4, Z13
	VMOVUPS.Z (R13)(R11*2), K4, Z14
	LEAQ (R13)(R11*2), AX
	VMOVUPS.Z (AX)(R11*1), K4, Z15
	LEAQ (R10)(R12*2), AX
	CMPQ 120(R14), $2
	JEQ t3block2
	T3ROW1((R10), 4(R10), 8(R10), Z12, Z0, Z4, Z8)
	T3ROW1((R10)(R12*1), 4(R10)(R12*1), 8(R10)(R12*1), Z13, Z1, Z5, Z9)
	T3ROW1((AX), 4(AX), 8(AX), Z14, Z2, Z6, Z10)
	T3ROW1((AX)(R12*1), 4(AX)(R12*1), 8(AX)(R12*1), Z15, Z3, Z7, Z11)
	JMP t3next

t3block2:
	KMOVW 2(R15), K5
	KMOVW 4(R15), K6
	KMOVW 18(R15), K7
	KMOVW 20(R15), K4
	T3ROW2((R10), 64(R10), 8(R10), 72(R10), Z12, Z0, Z4, Z8)
	T3ROW2((R10)(R12*1), 64(R10)(R12*1), 8(R10)(R12*1), 72(R10)(R12*1), Z13, Z1, Z5, Z9)
	T3ROW2((AX), 64(AX), 8(AX), 72(AX), Z14, Z2, Z6, Z10)
	T3ROW2((AX)(R12*1), 64(AX)(R12*1), 8(AX)(R12*1), 72(AX)(R12*1), Z15, Z3, Z7, Z11)

t3next:
	ADDQ $64, R13
	ADDQ 96(R14), R10
	ADDQ 104(R14), R15
	INCQ BX
	CMPQ BX, 40(R14)
	JLT t3block

	LEAQ (DI)(R11*4), DI
	LEAQ (SI)(R12*4), SI
	SUBQ $4, R8
	JMP t3group

t3one:
	TESTQ R8, R8
	JLE t3sum
	XORQ BX, BX
	MOVQ 24(R14), R15
	MOVQ SI, R10
	MOVQ DI, R13

t3oneblock:
	KMOVW (R15), K1
	KMOVW 8(R15), K2
	KMOVW 16(R15), K3
	KORW K1, K2, K4
	KORW K3, K4, K4
	VMOVUPS.Z (R13), K4, Z12
	CMPQ 120(R14), $2
	JEQ t3oneblock2
	T3ROW1((R10), 4(R10), 8(R10), Z12, Z0, Z4, Z8)
	JMP t3onenext

t3oneblock2:
	KMOVW 2(R15), K5
	KMOVW 4(R15), K6
	KMOVW 18(R15), K7
	KMOVW 20(R15), K4
	T3ROW2((R10), 64(R10), 8(R10), 72(R10), Z12, Z0, Z4, Z8)

t3onenext:
	ADDQ $64, R13
	ADDQ 96(R14), R10
	ADDQ 104(R14), R15
	INCQ BX
	CMPQ BX, 40(R14)
	JLT t3oneblock

	ADDQ R11, DI
	ADDQ R12, SI
	DECQ R8
	JMP t3one

t3sum:
	MOVQ 0(R14), DX
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUM
	VADDSS (DX), X0, X0
	VMOVSS X0, (DX)
	VADDPS Z5, Z4, Z0
	VADDPS Z7, Z6, Z2
	VADDPS Z2, Z0, Z0
	HSUM
	VADDSS 4(DX), X0, X0
	VMOVSS X0, 4(DX)
	VADDPS Z9, Z8, Z0
	VADDPS Z11, Z10, Z2
	VADDPS Z2, Z0, Z0
	HSUM
	VADDSS 8(DX), X0, X0
	VMOVSS X0, 8(DX)
	VZEROUPPER
	RET

DATA rowOddIdx<>+0(SB)/4, $1
DATA rowOddIdx<>+4(SB)/4, $3
DATA rowOddIdx<>+8(SB)/4, $5
DATA rowOddIdx<>+12(SB)/4, $7
DATA rowOddIdx<>+16(SB)/4, $9
DATA rowOddIdx<>+20(SB)/4, $11
DATA rowOddIdx<>+24(SB)/4, $13
DATA rowOddIdx<>+28(SB)/4, $15
DATA rowOddIdx<>+32(SB)/4, $17
DATA rowOddIdx<>+36(SB)/4, $19
DATA rowOddIdx<>+40(SB)/4, $21
DATA rowOddIdx<>+44(SB)/4, $23
DATA rowOddIdx<>+48(SB)/4, $25
DATA rowOddIdx<>+52(SB)/4, $27
DATA rowOddIdx<>+56(SB)/4, $29
DATA rowOddIdx<>+60(SB)/4, $31
GLOBL rowOddIdx<>(SB), RODATA|NOPTR, $64
