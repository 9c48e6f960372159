//go:build amd64 && !purego

#include "textflag.h"
#include "lanes_amd64.h"

// func compactRows(dst, src *float32, rows, n, stride int)
//
// Copies rows rows of n floats, stride floats apart in src, to dst one
// after another.
TEXT ·compactRows(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ n+24(FP), R9
	MOVQ stride+32(FP), R10
	SHLQ $2, R10
	// K1: the lanes of a row's last, partial vector.
	MOVQ R9, CX
	ANDQ $15, CX
	LOWMASK(K1)
	MOVQ R9, R11
	SHRQ $4, R11 // whole vectors a row

row:
	TESTQ R8, R8
	JLE done
	MOVQ SI, BX
	MOVQ R11, CX

whole:
	TESTQ CX, CX
	JLE part
	VMOVUPS (BX), Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, BX
	ADDQ $64, DI
	DECQ CX
	JMP whole

part:
	VMOVUPS.Z (BX), K1, Z0
	VMOVUPS Z0, K1, (DI)
	MOVQ R9, AX
	ANDQ $15, AX
	LEAQ (DI)(AX*4), DI
	ADDQ R10, SI
	DECQ R8
	JMP row

done:
	VZEROUPPER
	RET

// func sum(x *float32, n int) float32
//
// The sum of x[:n], in four vector accumulators of 16 lanes.
TEXT ·sum(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z2, Z2, Z2
	VXORPS Z3, Z3, Z3

four:
	CMPQ CX, $64
	JLT one
	VADDPS (SI), Z0, Z0
	VADDPS 64(SI), Z1, Z1
	VADDPS 128(SI), Z2, Z2
	VADDPS 192(SI), Z3, Z3
	ADDQ $256, SI
	SUBQ $64, CX
	JMP four

one:
	CMPQ CX, $16
	JLT tail
	VADDPS (SI), Z0, Z0
	ADDQ $64, SI
	SUBQ $16, CX
	JMP one

tail:
	LOWMASK(K1)
	VMOVUPS.Z (SI), K1, Z4
	VADDPS Z4, Z1, Z1
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUM
	VMOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func sumWhere(x, y *float32, n int) float32
//
// The sum of x[i] over the i < n where y[i] > 0: the bias gradient of a
// Relu's input from its output's gradient.
TEXT ·sumWhere(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DX
	MOVQ n+16(FP), CX
	VXORPS Z0, Z0, Z0
	VXORPS Z1, Z1, Z1
	VXORPS Z31, Z31, Z31

two:
	CMPQ CX, $32
	JLT one
	VCMPPS $0x11, (DX), Z31, K1 // 0 < y
	VCMPPS $0x11, 64(DX), Z31, K2
	VADDPS (SI), Z0, K1, Z0
	VADDPS 64(SI), Z1, K2, Z1
	ADDQ $128, SI
	ADDQ $128, DX
	SUBQ $32, CX
	JMP two

one:
	CMPQ CX, $16
	JLT tail
	VCMPPS $0x11, (DX), Z31, K1 // 0 < y
	VADDPS (SI), Z0, K1, Z0
	ADDQ $64, SI
	ADDQ $64, DX
	SUBQ $16, CX
	JMP one

tail:
	LOWMASK(K3)
	VMOVUPS.Z (DX), K3, Z2
	VCMPPS $0x1e, Z31, Z2, K3, K1
	VMOVUPS.Z (SI), K1, Z3
	VADDPS Z3, Z0, Z0
	VADDPS Z1, Z0, Z0
	HSUM
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET
