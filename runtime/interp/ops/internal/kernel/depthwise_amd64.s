//go:build amd64 && !purego

#include "textflag.h"

// func depthwiseRow(out, x, w, bias *float32, toff *int64, taps, n, cp, xStep, relu int)
//
// DepthwiseRow with cp and xStep in bytes: four pixels at a time, two
// 16-channel blocks at a time (one where a single block is left), the
// accumulators (Z0..Z3, Z6..Z9) over the taps, one weight vector a block
// and tap for the four pixels (Z4, Z10), eight independent chains of
// multiply-adds; then the pixels one by one.
TEXT ·depthwiseRow(SB), NOSPLIT, $0-80
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+48(FP), R8
	MOVQ cp+56(FP), R9
	MOVQ xStep+64(FP), R11
	LEAQ (R11)(R11*2), R12
	MOVQ relu+72(FP), R13
	VXORPS Z5, Z5, Z5

four:
	CMPQ R8, $4
	JLT one
	XORQ BX, BX

fblock:
	LEAQ 128(BX), AX
	CMPQ AX, R9
	JGT fsingle
	MOVQ bias+24(FP), AX
	VMOVUPS (AX)(BX*1), Z0
	VMOVUPS 64(AX)(BX*1), Z6
	VMOVAPS Z0, Z1
	VMOVAPS Z0, Z2
	VMOVAPS Z0, Z3
	VMOVAPS Z6, Z7
	VMOVAPS Z6, Z8
	VMOVAPS Z6, Z9
	MOVQ taps+40(FP), CX
	MOVQ toff+32(FP), R14
	MOVQ w+16(FP), DX
	ADDQ BX, DX

fdtap:
	MOVQ (R14), AX
	LEAQ (SI)(AX*4), R10
	ADDQ BX, R10
	VMOVUPS (DX), Z4
	VMOVUPS 64(DX), Z10
	VFMADD231PS (R10), Z4, Z0
	VFMADD231PS 64(R10), Z10, Z6
	VFMADD231PS (R10)(R11*1), Z4, Z1
	VFMADD231PS 64(R10)(R11*1), Z10, Z7
	VFMADD231PS (R10)(R11*2), Z4, Z2
	VFMADD231PS 64(R10)(R11*2), Z10, Z8
	VFMADD231PS (R10)(R12*1), Z4, Z3
	VFMADD231PS 64(R10)(R12*1), Z10, Z9
	ADDQ $8, R14
	ADDQ R9, DX
	DECQ CX
	JNZ fdtap

	TESTQ R13, R13
	JZ fdstore
	VMAXPS Z5, Z0, Z0
	VMAXPS Z5, Z1, Z1
	VMAXPS Z5, Z2, Z2
	VMAXPS Z5, Z3, Z3
	VMAXPS Z5, Z6, Z6
	VMAXPS Z5, Z7, Z7
	VMAXPS Z5, Z8, Z8
	VMAXPS Z5, Z9, Z9

fdstore:
	LEAQ (DI)(BX*1), AX
	VMOVUPS Z0, (AX)
	VMOVUPS Z6, 64(AX)
	ADDQ R9, AX
	VMOVUPS Z1, (AX)
	VMOVUPS Z7, 64(AX)
	ADDQ R9, AX
	VMOVUPS Z2, (AX)
	VMOVUPS Z8, 64(AX)
	ADDQ R9, AX
	VMOVUPS Z3, (AX)
	VMOVUPS Z9, 64(AX)
	ADDQ $128, BX
	CMPQ BX, R9
	JLT fblock
	JMP fnext

fsingle:
	MOVQ bias+24(FP), AX
	VMOVUPS (AX)(BX*1), Z0
	VMOVAPS Z0, Z1
	VMOVAPS Z0, Z2
	VMOVAPS Z0, Z3
	MOVQ taps+40(FP), CX
	MOVQ toff+32(FP), R14
	MOVQ w+16(FP), DX
	ADDQ BX, DX

ftap:
	MOVQ (R14), AX
	LEAQ (SI)(AX*4), R10
	ADDQ BX, R10
	VMOVUPS (DX), Z4
	VFMADD231PS (R10), Z4, Z0
	VFMADD231PS (R10)(R11*1), Z4, Z1
	VFMADD231PS (R10)(R11*2), Z4, Z2
	VFMADD231PS (R10)(R12*1), Z4, Z3
	ADDQ $8, R14
	ADDQ R9, DX
	DECQ CX
	JNZ ftap

	TESTQ R13, R13
	JZ fstore
	VMAXPS Z5, Z0, Z0
	VMAXPS Z5, Z1, Z1
	VMAXPS Z5, Z2, Z2
	VMAXPS Z5, Z3, Z3

fstore:
	LEAQ (DI)(BX*1), AX
	VMOVUPS Z0, (AX)
	ADDQ R9, AX
	VMOVUPS Z1, (AX)
	ADDQ R9, AX
	VMOVUPS Z2, (AX)
	ADDQ R9, AX
	VMOVUPS Z3, (AX)
	ADDQ $64, BX
	CMPQ BX, R9
	JLT fblock

fnext:
	LEAQ (DI)(R9*4), DI
	LEAQ (SI)(R11*4), SI
	SUBQ $4, R8
	JMP four

one:
	TESTQ R8, R8
	JLE done
	XORQ BX, BX

oblock:
	MOVQ bias+24(FP), AX
	VMOVUPS (AX)(BX*1), Z0
	MOVQ taps+40(FP), CX
	MOVQ toff+32(FP), R14
	MOVQ w+16(FP), DX
	ADDQ BX, DX

otap:
	MOVQ (R14), AX
	LEAQ (SI)(AX*4), R10
	VMOVUPS (DX), Z4
	VFMADD231PS (R10)(BX*1), Z4, Z0
	ADDQ $8, R14
	ADDQ R9, DX
	DECQ CX
	JNZ otap

	TESTQ R13, R13
	JZ ostore
	VMAXPS Z5, Z0, Z0

ostore:
	VMOVUPS Z0, (DI)(BX*1)
	ADDQ $64, BX
	CMPQ BX, R9
	JLT oblock

	ADDQ R9, DI
	ADDQ R11, SI
	DECQ R8
	JMP one

done:
	VZEROUPPER
	RET

// func depthwiseGradRow(acc, dy, x *float32, toff *int64, taps, n, cp, xStep int)
//
// DepthwiseGradRow with cp and xStep in bytes: two 16-channel blocks at a
// time (one where a single block is left), four taps at a time, their
// sums in Z0..Z3 and Z6..Z9 over the pixels, one dY vector a block and
// pixel for the four taps (Z4, Z10); then the taps one by one.
TEXT ·depthwiseGradRow(SB), NOSPLIT, $0-64
	MOVQ cp+48(FP), R9
	MOVQ xStep+56(FP), R11
	XORQ BX, BX

gblock:
	LEAQ 128(BX), AX
	CMPQ AX, R9
	JGT gsingle
	MOVQ acc+0(FP), DI
	ADDQ BX, DI
	MOVQ toff+24(FP), R14
	MOVQ taps+32(FP), CX

gdfour:
	CMPQ CX, $4
	JLT gdone
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z6
	LEAQ (DI)(R9*1), AX
	VMOVUPS (AX), Z1
	VMOVUPS 64(AX), Z7
	ADDQ R9, AX
	VMOVUPS (AX), Z2
	VMOVUPS 64(AX), Z8
	ADDQ R9, AX
	VMOVUPS (AX), Z3
	VMOVUPS 64(AX), Z9
	MOVQ x+16(FP), SI
	ADDQ BX, SI
	MOVQ (R14), AX
	LEAQ (SI)(AX*4), AX
	MOVQ 8(R14), R10
	LEAQ (SI)(R10*4), R10
	MOVQ 16(R14), R12
	LEAQ (SI)(R12*4), R12
	MOVQ 24(R14), R13
	LEAQ (SI)(R13*4), R13
	MOVQ dy+8(FP), DX
	ADDQ BX, DX
	MOVQ n+40(FP), R8

gdfourpix:
	VMOVUPS (DX), Z4
	VMOVUPS 64(DX), Z10
	VFMADD231PS (AX), Z4, Z0
	VFMADD231PS 64(AX), Z10, Z6
	VFMADD231PS (R10), Z4, Z1
	VFMADD231PS 64(R10), Z10, Z7
	VFMADD231PS (R12), Z4, Z2
	VFMADD231PS 64(R12), Z10, Z8
	VFMADD231PS (R13), Z4, Z3
	VFMADD231PS 64(R13), Z10, Z9
	ADDQ R11, AX
	ADDQ R11, R10
	ADDQ R11, R12
	ADDQ R11, R13
	ADDQ R9, DX
	DECQ R8
	JNZ gdfourpix

	VMOVUPS Z0, (DI)
	VMOVUPS Z6, 64(DI)
	ADDQ R9, DI
	VMOVUPS Z1, (DI)
	VMOVUPS Z7, 64(DI)
	ADDQ R9, DI
	VMOVUPS Z2, (DI)
	VMOVUPS Z8, 64(DI)
	ADDQ R9, DI
	VMOVUPS Z3, (DI)
	VMOVUPS Z9, 64(DI)
	ADDQ R9, DI
	ADDQ $32, R14
	SUBQ $4, CX
	JMP gdfour

gdone:
	TESTQ CX, CX
	JLE gdnext
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z6
	MOVQ x+16(FP), SI
	ADDQ BX, SI
	MOVQ (R14), AX
	LEAQ (SI)(AX*4), AX
	MOVQ dy+8(FP), DX
	ADDQ BX, DX
	MOVQ n+40(FP), R8

gdonepix:
	VMOVUPS (DX), Z4
	VMOVUPS 64(DX), Z10
	VFMADD231PS (AX), Z4, Z0
	VFMADD231PS 64(AX), Z10, Z6
	ADDQ R11, AX
	ADDQ R9, DX
	DECQ R8
	JNZ gdonepix

	VMOVUPS Z0, (DI)
	VMOVUPS Z6, 64(DI)
	ADDQ R9, DI
	ADDQ $8, R14
	DECQ CX
	JMP gdone

gdnext:
	ADDQ $128, BX
	CMPQ BX, R9
	JLT gblock
	VZEROUPPER
	RET

gsingle:
	MOVQ acc+0(FP), DI
	ADDQ BX, DI
	MOVQ toff+24(FP), R14
	MOVQ taps+32(FP), CX

gfour:
	CMPQ CX, $4
	JLT gone
	VMOVUPS (DI), Z0
	LEAQ (DI)(R9*1), AX
	VMOVUPS (AX), Z1
	ADDQ R9, AX
	VMOVUPS (AX), Z2
	ADDQ R9, AX
	VMOVUPS (AX), Z3
	MOVQ x+16(FP), SI
	ADDQ BX, SI
	MOVQ (R14), AX
	LEAQ (SI)(AX*4), AX
	MOVQ 8(R14), R10
	LEAQ (SI)(R10*4), R10
	MOVQ 16(R14), R12
	LEAQ (SI)(R12*4), R12
	MOVQ 24(R14), R13
	LEAQ (SI)(R13*4), R13
	MOVQ dy+8(FP), DX
	ADDQ BX, DX
	MOVQ n+40(FP), R8

gfourpix:
	VMOVUPS (DX), Z4
	VFMADD231PS (AX), Z4, Z0
	VFMADD231PS (R10), Z4, Z1
	VFMADD231PS (R12), Z4, Z2
	VFMADD231PS (R13), Z4, Z3
	ADDQ R11, AX
	ADDQ R11, R10
	ADDQ R11, R12
	ADDQ R11, R13
	ADDQ R9, DX
	DECQ R8
	JNZ gfourpix

	VMOVUPS Z0, (DI)
	ADDQ R9, DI
	VMOVUPS Z1, (DI)
	ADDQ R9, DI
	VMOVUPS Z2, (DI)
	ADDQ R9, DI
	VMOVUPS Z3, (DI)
	ADDQ R9, DI
	ADDQ $32, R14
	SUBQ $4, CX
	JMP gfour

gone:
	TESTQ CX, CX
	JLE gnext
	VMOVUPS (DI), Z0
	MOVQ x+16(FP), SI
	ADDQ BX, SI
	MOVQ (R14), AX
	LEAQ (SI)(AX*4), AX
	MOVQ dy+8(FP), DX
	ADDQ BX, DX
	MOVQ n+40(FP), R8

gonepix:
	VMOVUPS (DX), Z4
	VFMADD231PS (AX), Z4, Z0
	ADDQ R11, AX
	ADDQ R9, DX
	DECQ R8
	JNZ gonepix

	VMOVUPS Z0, (DI)
	ADDQ R9, DI
	ADDQ $8, R14
	DECQ CX
	JMP gone

gnext:
	ADDQ $64, BX
	CMPQ BX, R9
	JLT gblock
	VZEROUPPER
	RET
