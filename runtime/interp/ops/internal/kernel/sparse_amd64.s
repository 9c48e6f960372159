//go:build amd64 && !purego

#include "textflag.h"

// func axpyTerms(d, s, gs *float32, doff, soff *int32, n int, dstep, sstep *int64, t int)
//
// For each entry e < n and term j < t, the 16 floats at byte offset
// doff[e] + dstep[j] from d gain g[e] times the 16 at soff[e] + sstep[j]
// from s. Terms go three at a time, then one at a time.
TEXT ·axpyTerms(SB), NOSPLIT, $0-72
	MOVQ d+0(FP), DI
	MOVQ s+8(FP), SI
	MOVQ gs+16(FP), R8
	MOVQ doff+24(FP), R9
	MOVQ soff+32(FP), R10
	MOVQ n+40(FP), R11
	MOVQ dstep+48(FP), R12
	MOVQ sstep+56(FP), R13
	TESTQ R11, R11
	JLE done

entry:
	VBROADCASTSS (R8), Z0
	MOVLQSX (R9), AX
	ADDQ DI, AX
	MOVLQSX (R10), BX
	ADDQ SI, BX
	XORQ CX, CX

triple:
	LEAQ 3(CX), R14
	CMPQ R14, t+64(FP)
	JGT single
	MOVQ (R12)(CX*8), DX
	MOVQ (R13)(CX*8), R14
	VMOVUPS (AX)(DX*1), Z1
	VFMADD231PS (BX)(R14*1), Z0, Z1
	VMOVUPS Z1, (AX)(DX*1)
	MOVQ 8(R12)(CX*8), DX
	MOVQ 8(R13)(CX*8), R14
	VMOVUPS (AX)(DX*1), Z2
	VFMADD231PS (BX)(R14*1), Z0, Z2
	VMOVUPS Z2, (AX)(DX*1)
	MOVQ 16(R12)(CX*8), DX
	MOVQ 16(R13)(CX*8), R14
	VMOVUPS (AX)(DX*1), Z3
	VFMADD231PS (BX)(R14*1), Z0, Z3
	VMOVUPS Z3, (AX)(DX*1)
	ADDQ $3, CX
	JMP triple

single:
	CMPQ CX, t+64(FP)
	JGE next
	MOVQ (R12)(CX*8), DX
	MOVQ (R13)(CX*8), R14
	VMOVUPS (AX)(DX*1), Z1
	VFMADD231PS (BX)(R14*1), Z0, Z1
	VMOVUPS Z1, (AX)(DX*1)
	INCQ CX
	JMP single

next:
	ADDQ $4, R8
	ADDQ $4, R9
	ADDQ $4, R10
	DECQ R11
	JNZ entry

done:
	VZEROUPPER
	RET
