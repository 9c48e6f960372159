//go:build amd64 && !purego

#include "textflag.h"

// half32 is float32 ½, by which a sum is halved exactly as / 2 rounds it.
DATA half32<>+0(SB)/4, $0x3f000000
GLOBL half32<>(SB), RODATA|NOPTR, $4

// STEP takes the step on the eight elements at BX from the gradient in
// Z0, as float64, and moves BX on. Each operation is the Go loop's, in its
// order, unfused: m ← β1·m + (1−β1)·g, v ← β2·v + ((1−β2)·g)·g, both
// stored as float32; w ← w·shrink − (step·m)/(√v/root + ε). It adds w·0 of
// the new weights to Y11, which is NaN once a weight is NaN or infinite.
#define STEP \
	VCVTPS2PD (R8)(BX*4), Z1; \
	VCVTPS2PD (R9)(BX*4), Z2; \
	VCVTPS2PD (DI)(BX*4), Z3; \
	VMULPD    Z20, Z1, Z1; \
	VMULPD    Z22, Z0, Z4; \
	VADDPD    Z4, Z1, Z1; \
	VMULPD    Z21, Z2, Z2; \
	VMULPD    Z23, Z0, Z5; \
	VMULPD    Z0, Z5, Z5; \
	VADDPD    Z5, Z2, Z2; \
	VCVTPD2PS Z1, Y6; \
	VMOVUPS   Y6, (R8)(BX*4); \
	VCVTPD2PS Z2, Y7; \
	VMOVUPS   Y7, (R9)(BX*4); \
	VMULPD    Z26, Z3, Z3; \
	VSQRTPD   Z2, Z8; \
	VDIVPD    Z25, Z8, Z8; \
	VADDPD    Z27, Z8, Z8; \
	VMULPD    Z24, Z1, Z9; \
	VDIVPD    Z8, Z9, Z9; \
	VSUBPD    Z9, Z3, Z3; \
	VCVTPD2PS Z3, Y3; \
	VMOVUPS   Y3, (DI)(BX*4); \
	VMULPS    Y10, Y3, Y3; \
	VADDPS    Y3, Y11, Y11; \
	ADDQ      $8, BX

// func update8(w, grad, half, m, v *float32, n int, c *Coef) (bad bool)
// Coef: B1 0, B2 8, C1 16, C2 24, Step 32, Root 40, Shrink 48, Eps 56.
// With half not nil the gradient is (grad + half) / 2, in float32.
TEXT ·update8(SB), NOSPLIT, $0-57
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ half+16(FP), DX
	MOVQ m+24(FP), R8
	MOVQ v+32(FP), R9
	MOVQ n+40(FP), CX
	MOVQ c+48(FP), AX
	VBROADCASTSD 0(AX), Z20  // β1
	VBROADCASTSD 8(AX), Z21  // β2
	VBROADCASTSD 16(AX), Z22 // 1 − β1
	VBROADCASTSD 24(AX), Z23 // 1 − β2
	VBROADCASTSD 32(AX), Z24 // step
	VBROADCASTSD 40(AX), Z25 // root
	VBROADCASTSD 48(AX), Z26 // shrink
	VBROADCASTSD 56(AX), Z27 // ε
	VBROADCASTSS half32<>(SB), Y12
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	XORQ BX, BX
	TESTQ DX, DX
	JNZ mean

plain:
	VCVTPS2PD (SI)(BX*4), Z0 // g
	STEP
	CMPQ BX, CX
	JLT  plain
	JMP  done

mean:
	VMOVUPS   (SI)(BX*4), Y0
	VADDPS    (DX)(BX*4), Y0, Y0 // g + h
	VMULPS    Y12, Y0, Y0        // ·½
	VCVTPS2PD Y0, Z0
	STEP
	CMPQ BX, CX
	JLT  mean

done:
	VCMPPS    $3, Y11, Y11, Y11 // unordered: NaN
	VMOVMSKPS Y11, AX
	TESTL     AX, AX
	SETNE     bad+56(FP)
	VZEROUPPER
	RET
