#include "textflag.h"

// func Range(p unsafe.Pointer, n uintptr)
TEXT ·Range(SB), NOSPLIT, $0-16
	MOVD p+0(FP), R0
	MOVD n+8(FP), R1
	ADD  R0, R1, R1
	AND  $~63, R0
loop:
	CMP  R1, R0
	BHS  done
	PRFM (R0), PLDL1KEEP
	ADD  $64, R0
	B    loop
done:
	RET

// func Line(p unsafe.Pointer)
TEXT ·Line(SB), NOSPLIT, $0-8
	MOVD p+0(FP), R0
	PRFM (R0), PLDL1KEEP
	RET

// func Lines(base unsafe.Pointer, mask uint64)
TEXT ·Lines(SB), NOSPLIT, $0-16
	MOVD base+0(FP), R0
	MOVD mask+8(FP), R1
	AND  $~63, R0
lines_loop:
	CBZ  R1, lines_done
	RBIT R1, R2
	CLZ  R2, R2
	LSL  $6, R2, R2
	ADD  R0, R2, R2
	PRFM (R2), PLDL1KEEP
	SUB  $1, R1, R3
	AND  R3, R1, R1
	B    lines_loop
lines_done:
	RET
