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
