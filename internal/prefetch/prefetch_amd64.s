#include "textflag.h"

// func Range(p unsafe.Pointer, n uintptr)
TEXT ·Range(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	LEAQ (AX)(CX*1), DX
	ANDQ $~63, AX
loop:
	CMPQ AX, DX
	JAE  done
	PREFETCHT0 (AX)
	ADDQ $64, AX
	JMP  loop
done:
	RET

// func Line(p unsafe.Pointer)
TEXT ·Line(SB), NOSPLIT, $0-8
	MOVQ       p+0(FP), AX
	PREFETCHT0 (AX)
	RET

// func Lines(base unsafe.Pointer, mask uint64)
TEXT ·Lines(SB), NOSPLIT, $0-16
	MOVQ  base+0(FP), AX
	MOVQ  mask+8(FP), CX
	ANDQ  $~63, AX
	TESTQ CX, CX
	JZ    lines_done
lines_loop:
	BSFQ       CX, DX
	SHLQ       $6, DX
	PREFETCHT0 (AX)(DX*1)
	MOVQ       CX, DX
	SUBQ       $1, DX
	ANDQ       DX, CX
	JNZ        lines_loop
lines_done:
	RET
