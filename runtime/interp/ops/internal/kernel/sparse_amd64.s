//go:build amd64 && !purego

#include "textflag.h"
#include "lanes_amd64.h"

// AXPYARGS loads the arguments axpyTerms and axpyRuns share: d, s, gs,
// doff, soff, n, dstep and sstep into DI, SI, R8-R13.
#define AXPYARGS \
	MOVQ d+0(FP), DI; \
	MOVQ s+8(FP), SI; \
	MOVQ gs+16(FP), R8; \
	MOVQ doff+24(FP), R9; \
	MOVQ soff+32(FP), R10; \
	MOVQ n+40(FP), R11; \
	MOVQ dstep+48(FP), R12; \
	MOVQ sstep+56(FP), R13

// func checkOffsets(doff, soff *int32, n int, dlim, slim uint32) (bad bool)
//
// Reports whether, as unsigned numbers (a negative offset is then a large
// one), the largest of the n doff exceeds dlim or the largest soff slim.
// The offsets go 16 at a time, the last block masked.
TEXT ·checkOffsets(SB), NOSPLIT, $0-33
	MOVQ doff+0(FP), R9
	MOVQ soff+8(FP), R10
	MOVQ n+16(FP), R11
	MOVB $0, bad+32(FP)
	TESTQ R11, R11
	JLE cdone
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	XORQ DX, DX // the block's first offset
	MOVQ $0xffff, AX
	KMOVW AX, K1

check:
	MOVQ R11, CX
	SUBQ DX, CX // offsets left
	CMPQ CX, $16
	JGE checkblock
	LOWMASK(K1)

checkblock:
	VMOVDQU32.Z (R9)(DX*4), K1, Z6
	VPMAXUD Z6, Z4, Z4
	VMOVDQU32.Z (R10)(DX*4), K1, Z6
	VPMAXUD Z6, Z5, Z5
	ADDQ $16, DX
	CMPQ DX, R11
	JLT check
	MOVL dlim+24(FP), AX
	VPBROADCASTD AX, Z6
	VPCMPUD $6, Z6, Z4, K2 // doff > dlim
	KMOVW K2, AX
	MOVL slim+28(FP), BX
	VPBROADCASTD BX, Z6
	VPCMPUD $6, Z6, Z5, K2 // soff > slim
	KMOVW K2, BX
	ORQ BX, AX
	JZ cdone
	MOVB $1, bad+32(FP)

cdone:
	VZEROUPPER
	RET

// func axpyTerms(d, s, gs *float32, doff, soff *int32, n int, dstep, sstep *int64, t int)
//
// For each entry e < n and term j < t, the 16 floats at byte offset
// doff[e] + dstep[j] from d gain g[e] times the 16 at soff[e] + sstep[j]
// from s. Terms go three at a time, then one at a time. The caller has
// checked the offsets (checkOffsets).
TEXT ·axpyTerms(SB), NOSPLIT, $0-72
	AXPYARGS
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

// ENTRY adds entry CX to the partial sums Z(a) (term 0) and Z(b) (term 1)
// and moves on, or, where the entries are done or this one starts a new
// run of doff (AX), jumps to flush.
#define ENTRY(a, b) \
	CMPQ CX, R11; \
	JGE flush; \
	MOVL (R9)(CX*4), BX; \
	CMPL BX, AX; \
	JNE flush; \
	MOVLQSX (R10)(CX*4), BX; \
	ADDQ SI, BX; \
	VBROADCASTSS (R8)(CX*4), Z8; \
	VFMADD231PS (BX)(DX*1), Z8, a; \
	VFMADD231PS (BX)(R14*1), Z8, b; \
	INCQ CX

// func axpyRuns(d, s, gs *float32, doff, soff *int32, n int, dstep, sstep *int64, t int)
//
// axpyTerms for entries whose doff come in runs of one value (a weight
// gradient's entries, listed channel by channel with doff the channel's
// row of weights), t even: two terms at a time, each run's sums stay in
// registers, four partial sums a term that take the entries in turn, and
// reach d once per run, where axpyTerms loads and stores d for every
// entry. The caller has checked the offsets (checkOffsets).
TEXT ·axpyRuns(SB), NOSPLIT, $0-72
	AXPYARGS
	TESTQ R11, R11
	JLE rdone

pair:
	CMPQ t+64(FP), $2 // terms left
	JLT rdone
	MOVQ (R13), DX // the pair's source steps
	MOVQ 8(R13), R14
	XORQ CX, CX
	MOVLQSX (R9), AX // the run's doff

zero:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

run:
	ENTRY(Z0, Z4)
	ENTRY(Z1, Z5)
	ENTRY(Z2, Z6)
	ENTRY(Z3, Z7)
	JMP run

flush:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	VADDPS Z5, Z4, Z4
	VADDPS Z7, Z6, Z6
	VADDPS Z6, Z4, Z4
	MOVQ AX, BX
	ADDQ DI, BX
	ADDQ (R12), BX
	VADDPS (BX), Z0, Z0
	VMOVUPS Z0, (BX)
	SUBQ (R12), BX
	ADDQ 8(R12), BX
	VADDPS (BX), Z4, Z4
	VMOVUPS Z4, (BX)
	CMPQ CX, R11
	JGE nextpair
	MOVLQSX (R9)(CX*4), AX // the next run's doff
	JMP zero

nextpair:
	ADDQ $16, R12
	ADDQ $16, R13
	SUBQ $2, t+64(FP)
	JMP pair

rdone:
	VZEROUPPER
	RET

// 0, 1, ..., 15 as int32s: lane numbers.
DATA lanes<>+0(SB)/4, $0
DATA lanes<>+4(SB)/4, $1
DATA lanes<>+8(SB)/4, $2
DATA lanes<>+12(SB)/4, $3
DATA lanes<>+16(SB)/4, $4
DATA lanes<>+20(SB)/4, $5
DATA lanes<>+24(SB)/4, $6
DATA lanes<>+28(SB)/4, $7
DATA lanes<>+32(SB)/4, $8
DATA lanes<>+36(SB)/4, $9
DATA lanes<>+40(SB)/4, $10
DATA lanes<>+44(SB)/4, $11
DATA lanes<>+48(SB)/4, $12
DATA lanes<>+52(SB)/4, $13
DATA lanes<>+56(SB)/4, $14
DATA lanes<>+60(SB)/4, $15
GLOBL lanes<>(SB), RODATA|NOPTR, $64

// func poolEntries(gs *float32, goff, woff *int32, dp, pv *float32, arg *int32,
//	planes, poh, pow, rs, wg, pix, rowBytes, relu int) (n int)
//
// Lists the nonzero pooled gradients as PoolEntries describes, 16
// windows of a row at a time: the winner's offset a in its plane gives
// its grid pixel a + (2py + down)·(wg − rs), where down (the winner is
// in the window's second row) is a − 2px ≥ (2py+1)·rs; VCOMPRESS packs
// the kept lanes, and each block stores 16 values whatever it keeps.
TEXT ·poolEntries(SB), NOSPLIT, $0-120
	MOVQ gs+0(FP), DI
	MOVQ goff+8(FP), R8
	MOVQ woff+16(FP), R9
	MOVQ dp+24(FP), SI
	MOVQ pv+32(FP), R10
	MOVQ arg+40(FP), R11
	VPXORD Z31, Z31, Z31
	VPADDD lanes<>(SB), Z31, Z30
	VPADDD Z30, Z30, Z30          // 0, 2, ..., 30
	MOVQ wg+80(FP), AX
	SUBQ rs+72(FP), AX
	VPBROADCASTD AX, Z29          // wg − rs
	MOVQ pix+88(FP), AX
	VPBROADCASTD AX, Z28
	MOVQ rowBytes+96(FP), AX
	VPBROADCASTD AX, Z23
	VPXORD Z27, Z27, Z27          // the plane's weight row
	MOVQ planes+48(FP), R12
	TESTQ R12, R12
	JLE done
	CMPQ poh+56(FP), $0
	JLE done
	CMPQ pow+64(FP), $0
	JLE done

plane:
	XORQ R13, R13

row:
	MOVQ wg+80(FP), AX
	SUBQ rs+72(FP), AX
	IMULQ R13, AX
	SHLQ $1, AX
	VPBROADCASTD AX, Z26          // 2py·(wg − rs)
	MOVQ R13, AX
	SHLQ $1, AX
	INCQ AX
	IMULQ rs+72(FP), AX
	VPBROADCASTD AX, Z25          // (2py+1)·rs
	XORQ BX, BX

block:
	MOVQ pow+64(FP), CX
	SUBQ BX, CX
	CMPQ CX, $16
	JLE masked
	MOVQ $16, CX

masked:
	LOWMASK(K1)
	VMOVUPS.Z (SI), K1, Z0
	VCMPPS $4, Z31, Z0, K1, K3    // dp ≠ 0 (NaN kept), within the row
	CMPQ relu+104(FP), $0
	JEQ winners
	VMOVUPS.Z (R10), K1, Z1
	VCMPPS $0x1e, Z31, Z1, K3, K3 // and pv > 0

winners:
	VMOVDQU32.Z (R11), K1, Z2
	MOVQ BX, AX
	SHLQ $1, AX
	VPBROADCASTD AX, Z24
	VPADDD Z30, Z24, Z24          // 2px
	VPSUBD Z24, Z2, Z3            // a − 2px
	VPCMPD $5, Z25, Z3, K2        // ≥ (2py+1)·rs: the second row
	VPADDD Z26, Z2, Z4
	VPADDD Z29, Z4, K2, Z4
	VPMULLD Z28, Z4, Z4
	VCOMPRESSPS Z0, K3, Z5
	VMOVUPS Z5, (DI)
	VPCOMPRESSD Z4, K3, Z6
	VMOVDQU32 Z6, (R8)
	VMOVDQU32 Z27, (R9)
	KMOVW K3, AX
	POPCNTL AX, AX
	SHLQ $2, AX
	ADDQ AX, DI
	ADDQ AX, R8
	ADDQ AX, R9
	SHLQ $2, CX
	ADDQ CX, SI
	ADDQ CX, R10
	ADDQ CX, R11
	ADDQ $16, BX
	CMPQ BX, pow+64(FP)
	JLT block
	INCQ R13
	CMPQ R13, poh+56(FP)
	JLT row
	VPADDD Z23, Z27, Z27
	DECQ R12
	JNZ plane

done:
	MOVQ DI, AX
	SUBQ gs+0(FP), AX
	SHRQ $2, AX
	MOVQ AX, n+112(FP)
	VZEROUPPER
	RET

// func gatherRows(dst, src *float32, rows, n, dRow, sRow, dStep, sStep, lStride int, mask, last uint64)
//
// GatherRows with byte strides.
TEXT ·gatherRows(SB), NOSPLIT, $0-88
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ n+24(FP), R9
	MOVQ dRow+32(FP), R10
	MOVQ sRow+40(FP), R11
	MOVQ dStep+48(FP), R12
	MOVQ sStep+56(FP), R13
	MOVQ lStride+64(FP), AX
	VPBROADCASTD AX, Z1
	VPMULLD lanes<>(SB), Z1, Z1   // each lane's byte offset in src
	TESTQ R8, R8
	JLE gdone
	TESTQ R9, R9
	JLE gdone

grow:
	MOVQ DI, AX
	MOVQ SI, BX
	MOVQ R9, CX

gvec:
	MOVQ mask+72(FP), DX
	CMPQ CX, $1
	JNE gload
	MOVQ last+80(FP), DX

gload:
	KMOVW DX, K1
	KMOVW DX, K2
	VGATHERDPS (BX)(Z1*1), K1, Z0
	VMOVUPS Z0, K2, (AX)
	ADDQ R12, AX
	ADDQ R13, BX
	DECQ CX
	JNZ gvec
	ADDQ R10, DI
	ADDQ R11, SI
	DECQ R8
	JNZ grow

gdone:
	VZEROUPPER
	RET
