//go:build amd64 && !purego

#include "textflag.h"

// func depthwiseRow(out, x, w, bias *float32, toff *int64, taps, n, cp, xStep, relu int)
//
// DepthwiseRow with cp and xStep in bytes: four pixels at a time, each
// 16-channel block's accumulators in Z0..Z3 over the taps, one weight
// vector (Z4) a tap for the four; then the pixels one by one.
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
