//go:build amd64 && !purego

#include "textflag.h"
#include "lanes_amd64.h"

// The depthwise rows kernels' weight gradient (DepthwiseRowsGrad, rows.go):
// a tap at a time, and the three taps of a 3-tap kernel row at once.

// The loop bookkeeping both kernels share. R14 holds the argument block,
// R11 and R12 dY's and the input's row steps, DI and SI the next rows'
// dY and input, R8 the rows left; a row's blocks run with BX counting
// them, R13, R10 and R15 at the block's dY, input and masks.
#define ROWSTART \
	XORQ BX, BX; \
	MOVQ 24(R14), R15; \
	MOVQ SI, R10; \
	MOVQ DI, R13

#define NEXTBLOCK(label) \
	ADDQ $64, R13; \
	ADDQ 96(R14), R10; \
	ADDQ 104(R14), R15; \
	INCQ BX; \
	CMPQ BX, 40(R14); \
	JLT label

#define NEXTGROUP(label) \
	LEAQ (DI)(R11*4), DI; \
	LEAQ (SI)(R12*4), SI; \
	SUBQ $4, R8; \
	JMP label

#define NEXTROW(label) \
	ADDQ R11, DI; \
	ADDQ R12, SI; \
	DECQ R8; \
	JMP label

// DYROWS loads a block's four rows of dY (R13, step R11) into z0..z3
// under mask, and points AX at the input's third row (R10, step R12).
#define DYROWS(mask, z0, z1, z2, z3) \
	VMOVUPS.Z (R13), mask, z0; \
	VMOVUPS.Z (R13)(R11*1), mask, z1; \
	VMOVUPS.Z (R13)(R11*2), mask, z2; \
	LEAQ (R13)(R11*2), AX; \
	VMOVUPS.Z (AX)(R11*1), mask, z3; \
	LEAQ (R10)(R12*2), AX

// T3MASKS loads depthwiseRowsGrad3's three taps' masks (K1, K2, K3) and
// their union (K4); T3MASKS2, at stride 2, the masks of the 32-lane loads
// from tap 0's first column (K5, K6) and from tap 2's (K7, K4).
#define T3MASKS \
	KMOVW (R15), K1; \
	KMOVW 8(R15), K2; \
	KMOVW 16(R15), K3; \
	KORW K1, K2, K4; \
	KORW K3, K4, K4

#define T3MASKS2 \
	KMOVW 2(R15), K5; \
	KMOVW 4(R15), K6; \
	KMOVW 18(R15), K7; \
	KMOVW 20(R15), K4

// TAPSUM adds a tap's four accumulators, (a0+a1)+(a2+a3), folds the
// lanes (HSUM) and adds the result to the tap's sum in memory.
#define TAPSUM(a0, a1, a2, a3, sum) \
	VADDPS a1, a0, Z0; \
	VADDPS a3, a2, Z2; \
	VADDPS Z2, Z0, Z0; \
	HSUM; \
	VADDSS sum, X0, X0; \
	VMOVSS X0, sum

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
	ROWSTART

gblock:
	KMOVW (R15)(R9*8), K1
	DYROWS(K1, Z4, Z5, Z6, Z7)
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
	NEXTBLOCK(gblock)

	NEXTGROUP(ggroup)

gone:
	TESTQ R8, R8
	JLE gsum
	ROWSTART

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
	NEXTBLOCK(goneblock)

	NEXTROW(gone)

gsum:
	MOVQ 0(R14), AX
	TAPSUM(Z0, Z1, Z2, Z3, (AX)(R9*4))
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
	VMOVUPS ·oddIdx(SB), Z30
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
	ROWSTART

t3block:
	T3MASKS
	DYROWS(K4, Z12, Z13, Z14, Z15)
	CMPQ 120(R14), $2
	JEQ t3block2
	T3ROW1((R10), 4(R10), 8(R10), Z12, Z0, Z4, Z8)
	T3ROW1((R10)(R12*1), 4(R10)(R12*1), 8(R10)(R12*1), Z13, Z1, Z5, Z9)
	T3ROW1((AX), 4(AX), 8(AX), Z14, Z2, Z6, Z10)
	T3ROW1((AX)(R12*1), 4(AX)(R12*1), 8(AX)(R12*1), Z15, Z3, Z7, Z11)
	JMP t3next

t3block2:
	T3MASKS2
	T3ROW2((R10), 64(R10), 8(R10), 72(R10), Z12, Z0, Z4, Z8)
	T3ROW2((R10)(R12*1), 64(R10)(R12*1), 8(R10)(R12*1), 72(R10)(R12*1), Z13, Z1, Z5, Z9)
	T3ROW2((AX), 64(AX), 8(AX), 72(AX), Z14, Z2, Z6, Z10)
	T3ROW2((AX)(R12*1), 64(AX)(R12*1), 8(AX)(R12*1), 72(AX)(R12*1), Z15, Z3, Z7, Z11)

t3next:
	NEXTBLOCK(t3block)

	NEXTGROUP(t3group)

t3one:
	TESTQ R8, R8
	JLE t3sum
	ROWSTART

t3oneblock:
	T3MASKS
	VMOVUPS.Z (R13), K4, Z12
	CMPQ 120(R14), $2
	JEQ t3oneblock2
	T3ROW1((R10), 4(R10), 8(R10), Z12, Z0, Z4, Z8)
	JMP t3onenext

t3oneblock2:
	T3MASKS2
	T3ROW2((R10), 64(R10), 8(R10), 72(R10), Z12, Z0, Z4, Z8)

t3onenext:
	NEXTBLOCK(t3oneblock)

	NEXTROW(t3one)

t3sum:
	MOVQ 0(R14), DX
	TAPSUM(Z0, Z1, Z2, Z3, (DX))
	TAPSUM(Z4, Z5, Z6, Z7, 4(DX))
	TAPSUM(Z8, Z9, Z10, Z11, 8(DX))
	VZEROUPPER
	RET
