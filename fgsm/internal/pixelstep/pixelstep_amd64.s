//go:build amd64 && !purego

#include "textflag.h"

// func step16(adv, x, grad *float32, n int, a, az, eps float32) (done int)
//
// Per element, as the Go loop: d is a with grad's sign bit, or az where
// grad is zero or NaN (EQ_UQ); then min(max(min(max(v+d, x−ε), x+ε), 0), 1).
// VMAXPS and VMINPS return their second source (first in Go's operand
// order) on a tie of zeros: with +0 there, max(·, 0) makes any zero +0,
// as Go's max does. A vector with v+d, x−ε or x+ε NaN is left untouched
// and ends the call.
TEXT ·step16(SB), NOSPLIT, $0-56
	MOVQ adv+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ grad+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS a+32(FP), Z20
	VBROADCASTSS az+36(FP), Z21
	VBROADCASTSS eps+40(FP), Z22
	MOVL $0x3f800000, AX // 1.0
	VPBROADCASTD AX, Z23
	MOVL $0x80000000, AX // sign bit
	VPBROADCASTD AX, Z24
	VPXORD Z25, Z25, Z25 // +0
	XORQ BX, BX

loop:
	VMOVUPS  (DX)(BX*4), Z0 // g
	VPANDD   Z24, Z0, Z1
	VPXORD   Z20, Z1, Z1    // d: a with g's sign bit
	VCMPPS   $8, Z25, Z0, K1 // g == 0 or NaN
	VMOVAPS  Z21, K1, Z1    // d = a·0 there
	VMOVUPS  (DI)(BX*4), Z5 // v
	VADDPS   Z1, Z5, Z1     // v + d
	VMOVUPS  (SI)(BX*4), Z2 // x
	VSUBPS   Z22, Z2, Z3    // x − ε
	VADDPS   Z22, Z2, Z4    // x + ε
	VCMPPS   $3, Z1, Z1, K2 // v + d NaN
	VCMPPS   $3, Z4, Z3, K3 // x − ε or x + ε NaN
	KORTESTW K2, K3
	JNZ      done
	VMAXPS   Z3, Z1, Z1
	VMINPS   Z4, Z1, Z1
	VMAXPS   Z25, Z1, Z1    // +0 on a tie of zeros
	VMINPS   Z23, Z1, Z1
	VMOVUPS  Z1, (DI)(BX*4)
	ADDQ     $16, BX
	CMPQ     BX, CX
	JLT      loop

done:
	MOVQ BX, done+48(FP)
	VZEROUPPER
	RET
