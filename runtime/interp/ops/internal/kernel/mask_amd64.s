//go:build amd64 && !purego

#include "textflag.h"

// func reluMask(dst, dy, y *float32, n int)
//
// dst[i] = dy[i] where y[i] > 0, else 0, for i < n.
TEXT ·reluMask(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	VXORPS Z31, Z31, Z31
	MOVQ $0xffff, AX
	KMOVW AX, K2

loop:
	CMPQ CX, $16
	JLT tail

block:
	VMOVUPS.Z (DX), K2, Z1
	VCMPPS $0x1e, Z31, Z1, K2, K1 // y > 0, within the lanes
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS Z0, K2, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP loop

tail:
	TESTQ CX, CX
	JLE done
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K2
	MOVQ $16, CX
	JMP block

done:
	VZEROUPPER
	RET
