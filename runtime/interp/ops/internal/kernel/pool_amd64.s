//go:build amd64 && !purego

#include "textflag.h"
#include "lanes_amd64.h"

// TAILMASKS sets the masks of a row's last, partial block of 16 windows,
// the same for every row, from the row's window count in CX: K5 for its
// r = CX mod 16 outputs, K6 and K7 for its 2r inputs over two vectors (the
// low and high 16 bits of 2r ones). It overwrites AX and CX.
#define TAILMASKS \
	ANDQ $15, CX; \
	LOWMASK(K5); \
	SHLQ $1, CX; \
	LOWMASK(K6); \
	SHRQ $16, AX; \
	KMOVW AX, K7

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

// func max2x2(dst, src *float32, planes, oh, ow, w, hw int)
//
// A 2×2, stride-2 max pool of planes planes of hw floats, rows w apart, to
// planes of oh×ow: dst[p][oy][ox] = the maximum of src[p][2oy..2oy+1][2ox..2ox+1].
// Each output row is whole blocks of 16 and a tail whose masks, the same
// for every row, are set once: K5 for its outputs, K6 and K7 for its
// inputs in two vectors.
TEXT ·max2x2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), R8 // the plane's first row
	MOVQ planes+16(FP), R9
	MOVQ w+40(FP), R11
	SHLQ $2, R11 // w in bytes
	MOVQ hw+48(FP), R12
	SHLQ $2, R12 // hw in bytes
	MOVQ ow+32(FP), R14
	VMOVUPS evens<>(SB), Z30
	VMOVUPS odds<>(SB), Z31
	MOVQ R14, CX
	TAILMASKS
	TESTQ R9, R9
	JLE done

plane:
	MOVQ R8, SI
	MOVQ oh+24(FP), R10

row:
	TESTQ R10, R10
	JLE nextplane
	MOVQ SI, R13 // this row pair
	LEAQ (SI)(R11*1), DX
	MOVQ R14, CX

loop:
	CMPQ CX, $16
	JLT tail
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMAXPS (DX), Z0, Z0
	VMAXPS 64(DX), Z1, Z1
	VMOVAPS Z30, Z4
	VPERMI2PS Z1, Z0, Z4
	VMOVAPS Z31, Z5
	VPERMI2PS Z1, Z0, Z5
	VMAXPS Z5, Z4, Z4
	VMOVUPS Z4, (DI)
	ADDQ $128, SI
	ADDQ $128, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP loop

tail:
	TESTQ CX, CX
	JLE rowdone
	VMOVUPS.Z (SI), K6, Z0
	VMOVUPS.Z 64(SI), K7, Z1
	VMOVUPS.Z (DX), K6, Z2
	VMOVUPS.Z 64(DX), K7, Z3
	VMAXPS Z2, Z0, Z0
	VMAXPS Z3, Z1, Z1
	VMOVAPS Z30, Z4
	VPERMI2PS Z1, Z0, Z4
	VMOVAPS Z31, Z5
	VPERMI2PS Z1, Z0, Z5
	VMAXPS Z5, Z4, Z4
	VMOVUPS Z4, K5, (DI)
	LEAQ (DI)(CX*4), DI

rowdone:
	LEAQ (R13)(R11*2), SI // the next row pair
	DECQ R10
	JMP row

nextplane:
	ADDQ R12, R8
	DECQ R9
	JNZ plane

done:
	VZEROUPPER
	RET

// func maxArg2x2(dst *float32, arg *int32, src *float32, planes, oh, ow, w, hw int)
//
// max2x2 that also writes each window's winner to arg, as an offset in its
// plane; the first maximum in row-major order wins ties.
TEXT ·maxArg2x2(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ arg+8(FP), R14
	SUBQ DI, R14 // arg - dst: the winners lie that far from the maxima
	MOVQ src+16(FP), R8
	MOVQ planes+24(FP), R9
	MOVQ w+48(FP), R11
	SHLQ $2, R11
	MOVQ hw+56(FP), R12
	SHLQ $2, R12
	VMOVUPS evens<>(SB), Z30
	VMOVUPS odds<>(SB), Z31
	MOVQ w+48(FP), AX
	VPBROADCASTD AX, Z21 // Z21: w
	MOVL $1, AX
	VPBROADCASTD AX, Z22 // Z22: 1
	MOVL $32, AX
	VPBROADCASTD AX, Z23 // Z23: 32
	MOVQ ow+40(FP), CX
	TAILMASKS
	TESTQ R9, R9
	JLE adone

aplane:
	MOVQ R8, SI
	MOVQ oh+32(FP), R10
	VMOVDQA32 Z30, Z24 // Z24: the row pair's first offset + 2·lane

arow:
	TESTQ R10, R10
	JLE anextplane
	MOVQ SI, R13
	MOVQ DI, BX
	LEAQ (SI)(R11*1), DX
	MOVQ ow+40(FP), CX
	VMOVDQA32 Z24, Z20 // Z20: top-left offsets of the next 16 windows
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
	VMOVDQU32 Z8, K3, (DI)(R14*1)
	VPADDD Z23, Z20, Z20
	ADDQ $128, SI
	ADDQ $128, DX
	ADDQ $64, DI
	SUBQ $16, CX
	JMP aloop

atail:
	TESTQ CX, CX
	JLE arowdone
	// Fewer than 16 outputs left: one more pass through the block under
	// the tail's masks.
	KMOVW K5, K3
	KMOVW K6, K1
	KMOVW K7, K2
	MOVQ $16, CX
	JMP ablock

arowdone:
	LEAQ (R13)(R11*2), SI
	MOVQ ow+40(FP), AX
	LEAQ (BX)(AX*4), DI
	VPADDD Z21, Z24, Z24 // two rows on
	VPADDD Z21, Z24, Z24
	DECQ R10
	JMP arow

anextplane:
	ADDQ R12, R8
	DECQ R9
	JNZ aplane

adone:
	VZEROUPPER
	RET

// Lane indices that interleave two 16-lane tables: the first vector takes
// a0 b0 a1 b1 ... a7 b7, the second a8 b8 ... a15 b15.
DATA interlo<>+0(SB)/4, $0
DATA interlo<>+4(SB)/4, $16
DATA interlo<>+8(SB)/4, $1
DATA interlo<>+12(SB)/4, $17
DATA interlo<>+16(SB)/4, $2
DATA interlo<>+20(SB)/4, $18
DATA interlo<>+24(SB)/4, $3
DATA interlo<>+28(SB)/4, $19
DATA interlo<>+32(SB)/4, $4
DATA interlo<>+36(SB)/4, $20
DATA interlo<>+40(SB)/4, $5
DATA interlo<>+44(SB)/4, $21
DATA interlo<>+48(SB)/4, $6
DATA interlo<>+52(SB)/4, $22
DATA interlo<>+56(SB)/4, $7
DATA interlo<>+60(SB)/4, $23
GLOBL interlo<>(SB), RODATA|NOPTR, $64

DATA interhi<>+0(SB)/4, $8
DATA interhi<>+4(SB)/4, $24
DATA interhi<>+8(SB)/4, $9
DATA interhi<>+12(SB)/4, $25
DATA interhi<>+16(SB)/4, $10
DATA interhi<>+20(SB)/4, $26
DATA interhi<>+24(SB)/4, $11
DATA interhi<>+28(SB)/4, $27
DATA interhi<>+32(SB)/4, $12
DATA interhi<>+36(SB)/4, $28
DATA interhi<>+40(SB)/4, $13
DATA interhi<>+44(SB)/4, $29
DATA interhi<>+48(SB)/4, $14
DATA interhi<>+52(SB)/4, $30
DATA interhi<>+56(SB)/4, $15
DATA interhi<>+60(SB)/4, $31
GLOBL interhi<>(SB), RODATA|NOPTR, $64

// func unpool2x2(dst, dy, pv *float32, arg *int32, planes, oh, ow, rs, row, plane, relu int)
//
// The gradient through maxArg2x2 (and a Relu before it, when relu is
// set): for each of planes planes of oh×ow windows, the window's dy goes
// to its winner, which arg gives as an offset in a plane of rows rs
// floats apart, and its other three inputs get zero; with relu, a window
// whose pooled value pv is not positive sends zero. The 2·oh rows of
// 2·ow values land in dst, rows row floats apart and planes plane apart.
TEXT ·unpool2x2(SB), NOSPLIT, $0-88
	MOVQ dst+0(FP), R8 // the plane's first row pair
	MOVQ dy+8(FP), SI
	MOVQ pv+16(FP), R12
	SUBQ SI, R12 // R12: pv - dy
	MOVQ arg+24(FP), R14
	SUBQ SI, R14 // arg - dy
	MOVQ planes+32(FP), R9
	MOVQ row+64(FP), R11
	SHLQ $2, R11 // row in bytes
	MOVQ plane+72(FP), AX
	SHLQ $2, AX
	MOVQ AX, plane+72(FP) // plane in bytes, read from here per plane
	VMOVUPS interlo<>(SB), Z28
	VMOVUPS interhi<>(SB), Z29
	VMOVUPS evens<>(SB), Z30 // 2·lane
	MOVQ rs+56(FP), AX
	VPBROADCASTD AX, Z21 // Z21: rs
	MOVL $1, AX
	VPBROADCASTD AX, Z22 // Z22: 1
	MOVL $32, AX
	VPBROADCASTD AX, Z23 // Z23: 32
	VXORPS Z31, Z31, Z31 // zero
	MOVQ ow+48(FP), CX
	TAILMASKS
	TESTQ R9, R9
	JLE udone

uplane:
	MOVQ R8, DI
	MOVQ oh+40(FP), R10
	VMOVDQA32 Z30, Z24 // Z24: the row pair's corner offsets, 2py·rs + 2·lane

urow:
	TESTQ R10, R10
	JLE unextplane
	MOVQ DI, R13 // the row pair's first row
	LEAQ (DI)(R11*1), DX // and its second
	MOVQ ow+48(FP), CX
	LEAQ (SI)(CX*4), BX // where the row's windows end in dy
	VMOVDQA32 Z24, Z20 // Z20: the corners of the next 16 windows
	MOVQ $0xffff, AX
	KMOVW AX, K3 // windows
	KMOVW AX, K1 // outputs 0-15 of a row
	KMOVW AX, K2 // outputs 16-31

uloop:
	CMPQ CX, $16
	JLT utail

ublock:
	VMOVUPS.Z (SI), K3, Z0 // dy
	VMOVDQU32.Z (SI)(R14*1), K3, Z1 // winners
	MOVQ relu+80(FP), AX
	TESTQ AX, AX
	JZ unomask
	VMOVUPS.Z (SI)(R12*1), K3, Z2 // pooled values
	VCMPPS $0x1e, Z31, Z2, K4 // pooled > 0
	VMOVUPS.Z Z0, K4, Z0

unomask:
	VPCMPEQD Z20, Z1, K4 // top left won
	VMOVUPS.Z Z0, K4, Z4
	VPADDD Z22, Z20, Z8
	VPCMPEQD Z8, Z1, K4 // top right
	VMOVUPS.Z Z0, K4, Z5
	VPADDD Z21, Z20, Z8
	VPCMPEQD Z8, Z1, K4 // bottom left
	VMOVUPS.Z Z0, K4, Z6
	VPADDD Z22, Z8, Z8
	VPCMPEQD Z8, Z1, K4 // bottom right
	VMOVUPS.Z Z0, K4, Z7
	VMOVAPS Z28, Z10
	VPERMI2PS Z5, Z4, Z10
	VMOVAPS Z29, Z11
	VPERMI2PS Z5, Z4, Z11
	VMOVAPS Z28, Z12
	VPERMI2PS Z7, Z6, Z12
	VMOVAPS Z29, Z13
	VPERMI2PS Z7, Z6, Z13
	VMOVUPS Z10, K1, (R13)
	VMOVUPS Z11, K2, 64(R13)
	VMOVUPS Z12, K1, (DX)
	VMOVUPS Z13, K2, 64(DX)
	VPADDD Z23, Z20, Z20
	ADDQ $64, SI
	ADDQ $128, R13
	ADDQ $128, DX
	SUBQ $16, CX
	JMP uloop

utail:
	TESTQ CX, CX
	JLE urowdone
	// Fewer than 16 windows left: one more pass through the block under
	// the tail's masks (SI is set to the row's end after it).
	KMOVW K5, K3
	KMOVW K6, K1
	KMOVW K7, K2
	MOVQ $16, CX
	JMP ublock

urowdone:
	MOVQ BX, SI
	LEAQ (DI)(R11*2), DI // the next row pair
	MOVQ rs+56(FP), AX
	SHLQ $1, AX
	VPBROADCASTD AX, Z9
	VPADDD Z9, Z24, Z24 // its corners: two rows of rs on
	DECQ R10
	JMP urow

unextplane:
	ADDQ plane+72(FP), R8
	DECQ R9
	JNZ uplane

udone:
	VZEROUPPER
	RET
