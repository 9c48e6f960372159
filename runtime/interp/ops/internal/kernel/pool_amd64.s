//go:build amd64 && !purego

#include "textflag.h"

// Lane indices that pick the even and the odd elements of two 16-lane
// tables: VPERMI2PS with these splits 32 adjacent floats into their left
// and right columns of a 2×2 window.
DATA evens<>+0(SB)/4, $0
DATA evens<>+4(SB)/4, $2
DATA evens<>+8(SB)/4, $4
DATA evens<>+12(SB)/4, $6
DATA evens<>+16(SB)/4, $8
DATA evens<>+20(SB)/4, $10
DATA evens<>+24(SB)/4, $12
DATA evens<>+28(SB)/4, $14
DATA evens<>+32(SB)/4, $16
DATA evens<>+36(SB)/4, $18
DATA evens<>+40(SB)/4, $20
DATA evens<>+44(SB)/4, $22
DATA evens<>+48(SB)/4, $24
DATA evens<>+52(SB)/4, $26
DATA evens<>+56(SB)/4, $28
DATA evens<>+60(SB)/4, $30
GLOBL evens<>(SB), RODATA|NOPTR, $64

DATA odds<>+0(SB)/4, $1
DATA odds<>+4(SB)/4, $3
DATA odds<>+8(SB)/4, $5
DATA odds<>+12(SB)/4, $7
DATA odds<>+16(SB)/4, $9
DATA odds<>+20(SB)/4, $11
DATA odds<>+24(SB)/4, $13
DATA odds<>+28(SB)/4, $15
DATA odds<>+32(SB)/4, $17
DATA odds<>+36(SB)/4, $19
DATA odds<>+40(SB)/4, $21
DATA odds<>+44(SB)/4, $23
DATA odds<>+48(SB)/4, $25
DATA odds<>+52(SB)/4, $27
DATA odds<>+56(SB)/4, $29
DATA odds<>+60(SB)/4, $31
GLOBL odds<>(SB), RODATA|NOPTR, $64

// func max2x2(dst, r0, r1 *float32, n int)
//
// dst[i] = max(r0[2i], r0[2i+1], r1[2i], r1[2i+1]) for i < n.
TEXT ·max2x2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ n+24(FP), CX
	VMOVUPS evens<>(SB), Z30
	VMOVUPS odds<>(SB), Z31
	MOVQ $0xffff, AX
	KMOVW AX, K1
	KMOVW AX, K2
	KMOVW AX, K3

loop:
	CMPQ CX, $16
	JLT tail

block:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS.Z (DX), K1, Z2
	VMOVUPS.Z 64(DX), K2, Z3
	VMAXPS Z2, Z0, Z0
	VMAXPS Z3, Z1, Z1
	VMOVAPS Z30, Z4
	VPERMI2PS Z1, Z0, Z4
	VMOVAPS Z31, Z5
	VPERMI2PS Z1, Z0, Z5
	VMAXPS Z5, Z4, Z4
	VMOVUPS Z4, K3, (DI)
	ADDQ $128, SI
	ADDQ $128, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP loop

tail:
	TESTQ CX, CX
	JLE done
	// n < 16 outputs left: masks for 2n inputs over two vectors and for
	// n outputs, then one more pass through the block.
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K3
	MOVQ CX, BX
	SHLQ $1, BX
	CMPQ BX, $16
	JLE short
	SUBQ $16, BX
	MOVQ BX, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K2
	MOVQ $0xffff, AX
	KMOVW AX, K1
	MOVQ $16, CX
	JMP block

short:
	MOVQ BX, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	KXORW K2, K2, K2
	MOVQ $16, CX
	JMP block

done:
	VZEROUPPER
	RET

// func maxArg2x2(dst *float32, arg *int32, r0, r1 *float32, n int, first, w int32)
//
// max2x2 that also writes each window's winner to arg, as an offset in the
// plane: the window of output i starts at first + 2i, its second row w
// further on, and the first maximum in row-major order wins ties.
TEXT ·maxArg2x2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ arg+8(FP), R8
	MOVQ r0+16(FP), SI
	MOVQ r1+24(FP), DX
	MOVQ n+32(FP), CX
	VMOVUPS evens<>(SB), Z30
	VMOVUPS odds<>(SB), Z31
	// Z20: first + 2·lane, the top-left offsets of the next 16 windows.
	MOVL first+40(FP), AX
	VPBROADCASTD AX, Z20
	VPADDD Z30, Z20, Z20
	MOVL w+44(FP), AX
	VPBROADCASTD AX, Z21 // Z21: w
	MOVL $1, AX
	VPBROADCASTD AX, Z22 // Z22: 1
	MOVL $32, AX
	VPBROADCASTD AX, Z23 // Z23: 32
	MOVQ $0xffff, AX
	KMOVW AX, K1
	KMOVW AX, K2
	KMOVW AX, K3

aloop:
	CMPQ CX, $16
	JLT atail

ablock:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS.Z (DX), K1, Z2
	VMOVUPS.Z 64(DX), K2, Z3
	VMOVAPS Z30, Z4 // top left
	VPERMI2PS Z1, Z0, Z4
	VMOVAPS Z31, Z5 // top right
	VPERMI2PS Z1, Z0, Z5
	VMOVAPS Z30, Z6 // bottom left
	VPERMI2PS Z3, Z2, Z6
	VMOVAPS Z31, Z7 // bottom right
	VPERMI2PS Z3, Z2, Z7
	VMOVDQA32 Z20, Z8 // winner: top left
	VPADDD Z21, Z20, Z9 // bottom left's offset
	VCMPPS $0x1e, Z4, Z5, K4 // top right > best
	VMAXPS Z5, Z4, Z4
	VPADDD Z22, Z20, K4, Z8
	VCMPPS $0x1e, Z4, Z6, K4 // bottom left > best
	VMAXPS Z6, Z4, Z4
	VMOVDQA32 Z9, K4, Z8
	VCMPPS $0x1e, Z4, Z7, K4 // bottom right > best
	VMAXPS Z7, Z4, Z4
	VPADDD Z22, Z9, K4, Z8
	VMOVUPS Z4, K3, (DI)
	VMOVDQU32 Z8, K3, (R8)
	VPADDD Z23, Z20, Z20
	ADDQ $128, SI
	ADDQ $128, DX
	ADDQ $64, DI
	ADDQ $64, R8
	SUBQ $16, CX
	JMP aloop

atail:
	TESTQ CX, CX
	JLE adone
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K3
	MOVQ CX, BX
	SHLQ $1, BX
	CMPQ BX, $16
	JLE ashort
	SUBQ $16, BX
	MOVQ BX, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K2
	MOVQ $0xffff, AX
	KMOVW AX, K1
	MOVQ $16, CX
	JMP ablock

ashort:
	MOVQ BX, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	KXORW K2, K2, K2
	MOVQ $16, CX
	JMP ablock

adone:
	VZEROUPPER
	RET
