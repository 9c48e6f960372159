//go:build amd64 && !purego

#include "textflag.h"

// func update8(w, grad, m, v *float32, n int, c *Coef)
// Coef: B1 0, B2 8, C1 16, C2 24, Step 32, Root 40, Shrink 48, Eps 56.
// Each operation is the Go loop's, in its order, unfused.
TEXT ·update8(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSD 0(AX), Z20  // β1
	VBROADCASTSD 8(AX), Z21  // β2
	VBROADCASTSD 16(AX), Z22 // 1 − β1
	VBROADCASTSD 24(AX), Z23 // 1 − β2
	VBROADCASTSD 32(AX), Z24 // step
	VBROADCASTSD 40(AX), Z25 // root
	VBROADCASTSD 48(AX), Z26 // shrink
	VBROADCASTSD 56(AX), Z27 // ε
	XORQ BX, BX

loop:
	VCVTPS2PD (SI)(BX*4), Z0 // g
	VCVTPS2PD (R8)(BX*4), Z1 // m
	VCVTPS2PD (R9)(BX*4), Z2 // v
	VCVTPS2PD (DI)(BX*4), Z3 // w
	VMULPD    Z20, Z1, Z1    // β1·m
	VMULPD    Z22, Z0, Z4    // (1−β1)·g
	VADDPD    Z4, Z1, Z1     // m
	VMULPD    Z21, Z2, Z2    // β2·v
	VMULPD    Z23, Z0, Z5    // (1−β2)·g
	VMULPD    Z0, Z5, Z5     // ·g
	VADDPD    Z5, Z2, Z2     // v
	VCVTPD2PS Z1, Y6
	VMOVUPS   Y6, (R8)(BX*4)
	VCVTPD2PS Z2, Y7
	VMOVUPS   Y7, (R9)(BX*4)
	VMULPD    Z26, Z3, Z3    // w·shrink
	VSQRTPD   Z2, Z8         // √v
	VDIVPD    Z25, Z8, Z8    // /root
	VADDPD    Z27, Z8, Z8    // +ε
	VMULPD    Z24, Z1, Z9    // step·m
	VDIVPD    Z8, Z9, Z9     // /(…)
	VSUBPD    Z9, Z3, Z3     // w − …
	VCVTPD2PS Z3, Y3
	VMOVUPS   Y3, (DI)(BX*4)
	ADDQ      $8, BX
	CMPQ      BX, CX
	JLT       loop
	VZEROUPPER
	RET
