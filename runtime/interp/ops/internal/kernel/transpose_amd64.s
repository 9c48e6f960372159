//go:build amd64 && !purego

#include "textflag.h"

// func transpose(dst, src *float32, rows, cols, dStride, sStride int)
//
// Writes dst[k·dStride + j] = src[j·sStride + k] for j < rows (at most
// 16) and k < cols, 16 columns of src a block: the block's rows are
// loaded into Z0-Z15 (16 lanes, masked to the block's columns), turned
// in registers (32-bit, 64-bit and two 128-bit shuffles) so that Zk holds
// column k, and Zk is stored as row k of dst, masked to the rows. Lanes
// neither loaded nor stored hold what they held: no row past rows is
// read, no lane past rows written. In the comments, Intel's operand
// order: Go's assembler takes the sources reversed.
TEXT ·transpose(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ cols+24(FP), R9
	MOVQ dStride+32(FP), R10
	SHLQ $2, R10
	MOVQ sStride+40(FP), R11
	SHLQ $2, R11
	MOVQ R8, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K2                  // the rows: the lanes stored

block:
	MOVQ R9, R12
	CMPQ R12, $16
	JLE cols
	MOVQ $16, R12

cols:
	MOVQ R12, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1                  // the block's columns: the lanes loaded
	MOVQ SI, BX
	CMPQ R8, $1
	JLT turn
	VMOVUPS.Z (BX), K1, Z0
	ADDQ R11, BX
	CMPQ R8, $2
	JLT turn
	VMOVUPS.Z (BX), K1, Z1
	ADDQ R11, BX
	CMPQ R8, $3
	JLT turn
	VMOVUPS.Z (BX), K1, Z2
	ADDQ R11, BX
	CMPQ R8, $4
	JLT turn
	VMOVUPS.Z (BX), K1, Z3
	ADDQ R11, BX
	CMPQ R8, $5
	JLT turn
	VMOVUPS.Z (BX), K1, Z4
	ADDQ R11, BX
	CMPQ R8, $6
	JLT turn
	VMOVUPS.Z (BX), K1, Z5
	ADDQ R11, BX
	CMPQ R8, $7
	JLT turn
	VMOVUPS.Z (BX), K1, Z6
	ADDQ R11, BX
	CMPQ R8, $8
	JLT turn
	VMOVUPS.Z (BX), K1, Z7
	ADDQ R11, BX
	CMPQ R8, $9
	JLT turn
	VMOVUPS.Z (BX), K1, Z8
	ADDQ R11, BX
	CMPQ R8, $10
	JLT turn
	VMOVUPS.Z (BX), K1, Z9
	ADDQ R11, BX
	CMPQ R8, $11
	JLT turn
	VMOVUPS.Z (BX), K1, Z10
	ADDQ R11, BX
	CMPQ R8, $12
	JLT turn
	VMOVUPS.Z (BX), K1, Z11
	ADDQ R11, BX
	CMPQ R8, $13
	JLT turn
	VMOVUPS.Z (BX), K1, Z12
	ADDQ R11, BX
	CMPQ R8, $14
	JLT turn
	VMOVUPS.Z (BX), K1, Z13
	ADDQ R11, BX
	CMPQ R8, $15
	JLT turn
	VMOVUPS.Z (BX), K1, Z14
	ADDQ R11, BX
	CMPQ R8, $16
	JLT turn
	VMOVUPS.Z (BX), K1, Z15
	ADDQ R11, BX

turn:
	// unpcklps/unpckhps r(2i), r(2i+1): t(2i) = a0 b0 a1 b1, t(2i+1) = a2 b2 a3 b3 a lane
	VUNPCKLPS Z1, Z0, Z16
	VUNPCKHPS Z1, Z0, Z17
	VUNPCKLPS Z3, Z2, Z18
	VUNPCKHPS Z3, Z2, Z19
	VUNPCKLPS Z5, Z4, Z20
	VUNPCKHPS Z5, Z4, Z21
	VUNPCKLPS Z7, Z6, Z22
	VUNPCKHPS Z7, Z6, Z23
	VUNPCKLPS Z9, Z8, Z24
	VUNPCKHPS Z9, Z8, Z25
	VUNPCKLPS Z11, Z10, Z26
	VUNPCKHPS Z11, Z10, Z27
	VUNPCKLPS Z13, Z12, Z28
	VUNPCKHPS Z13, Z12, Z29
	VUNPCKLPS Z15, Z14, Z30
	VUNPCKHPS Z15, Z14, Z31
	// unpcklpd/unpckhpd: u(4q+x) holds column 4l+x of rows 4q..4q+3 in lane l
	VUNPCKLPD Z18, Z16, Z0
	VUNPCKHPD Z18, Z16, Z1
	VUNPCKLPD Z19, Z17, Z2
	VUNPCKHPD Z19, Z17, Z3
	VUNPCKLPD Z22, Z20, Z4
	VUNPCKHPD Z22, Z20, Z5
	VUNPCKLPD Z23, Z21, Z6
	VUNPCKHPD Z23, Z21, Z7
	VUNPCKLPD Z26, Z24, Z8
	VUNPCKHPD Z26, Z24, Z9
	VUNPCKLPD Z27, Z25, Z10
	VUNPCKHPD Z27, Z25, Z11
	VUNPCKLPD Z30, Z28, Z12
	VUNPCKHPD Z30, Z28, Z13
	VUNPCKLPD Z31, Z29, Z14
	VUNPCKHPD Z31, Z29, Z15
	// shuf_f32x4 0x88 takes lanes 0, 2 of each source, 0xDD lanes 1, 3
	VSHUFF32X4 $0x88, Z4, Z0, Z16
	VSHUFF32X4 $0xDD, Z4, Z0, Z20
	VSHUFF32X4 $0x88, Z12, Z8, Z24
	VSHUFF32X4 $0xDD, Z12, Z8, Z28
	VSHUFF32X4 $0x88, Z5, Z1, Z17
	VSHUFF32X4 $0xDD, Z5, Z1, Z21
	VSHUFF32X4 $0x88, Z13, Z9, Z25
	VSHUFF32X4 $0xDD, Z13, Z9, Z29
	VSHUFF32X4 $0x88, Z6, Z2, Z18
	VSHUFF32X4 $0xDD, Z6, Z2, Z22
	VSHUFF32X4 $0x88, Z14, Z10, Z26
	VSHUFF32X4 $0xDD, Z14, Z10, Z30
	VSHUFF32X4 $0x88, Z7, Z3, Z19
	VSHUFF32X4 $0xDD, Z7, Z3, Z23
	VSHUFF32X4 $0x88, Z15, Z11, Z27
	VSHUFF32X4 $0xDD, Z15, Z11, Z31
	// column x, 8+x from v(x), v(8+x); 4+x, 12+x from v(4+x), v(12+x)
	VSHUFF32X4 $0x88, Z24, Z16, Z0
	VSHUFF32X4 $0xDD, Z24, Z16, Z8
	VSHUFF32X4 $0x88, Z28, Z20, Z4
	VSHUFF32X4 $0xDD, Z28, Z20, Z12
	VSHUFF32X4 $0x88, Z25, Z17, Z1
	VSHUFF32X4 $0xDD, Z25, Z17, Z9
	VSHUFF32X4 $0x88, Z29, Z21, Z5
	VSHUFF32X4 $0xDD, Z29, Z21, Z13
	VSHUFF32X4 $0x88, Z26, Z18, Z2
	VSHUFF32X4 $0xDD, Z26, Z18, Z10
	VSHUFF32X4 $0x88, Z30, Z22, Z6
	VSHUFF32X4 $0xDD, Z30, Z22, Z14
	VSHUFF32X4 $0x88, Z27, Z19, Z3
	VSHUFF32X4 $0xDD, Z27, Z19, Z11
	VSHUFF32X4 $0x88, Z31, Z23, Z7
	VSHUFF32X4 $0xDD, Z31, Z23, Z15
	MOVQ DI, BX
	VMOVUPS Z0, K2, (BX)
	CMPQ R12, $2
	JLT next
	ADDQ R10, BX
	VMOVUPS Z1, K2, (BX)
	CMPQ R12, $3
	JLT next
	ADDQ R10, BX
	VMOVUPS Z2, K2, (BX)
	CMPQ R12, $4
	JLT next
	ADDQ R10, BX
	VMOVUPS Z3, K2, (BX)
	CMPQ R12, $5
	JLT next
	ADDQ R10, BX
	VMOVUPS Z4, K2, (BX)
	CMPQ R12, $6
	JLT next
	ADDQ R10, BX
	VMOVUPS Z5, K2, (BX)
	CMPQ R12, $7
	JLT next
	ADDQ R10, BX
	VMOVUPS Z6, K2, (BX)
	CMPQ R12, $8
	JLT next
	ADDQ R10, BX
	VMOVUPS Z7, K2, (BX)
	CMPQ R12, $9
	JLT next
	ADDQ R10, BX
	VMOVUPS Z8, K2, (BX)
	CMPQ R12, $10
	JLT next
	ADDQ R10, BX
	VMOVUPS Z9, K2, (BX)
	CMPQ R12, $11
	JLT next
	ADDQ R10, BX
	VMOVUPS Z10, K2, (BX)
	CMPQ R12, $12
	JLT next
	ADDQ R10, BX
	VMOVUPS Z11, K2, (BX)
	CMPQ R12, $13
	JLT next
	ADDQ R10, BX
	VMOVUPS Z12, K2, (BX)
	CMPQ R12, $14
	JLT next
	ADDQ R10, BX
	VMOVUPS Z13, K2, (BX)
	CMPQ R12, $15
	JLT next
	ADDQ R10, BX
	VMOVUPS Z14, K2, (BX)
	CMPQ R12, $16
	JLT next
	ADDQ R10, BX
	VMOVUPS Z15, K2, (BX)

next:
	ADDQ $64, SI
	MOVQ R10, AX
	SHLQ $4, AX
	ADDQ AX, DI
	SUBQ $16, R9
	JG block
	VZEROUPPER
	RET
