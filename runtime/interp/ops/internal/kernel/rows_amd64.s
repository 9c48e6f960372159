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
