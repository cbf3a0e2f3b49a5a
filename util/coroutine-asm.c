/*
 * Coroutine switching backend in hand-written assembly, for x86-64 (SysV
 * ABI) and AArch64 (AAPCS64).
 *
 * A switch is an ordinary out-of-line function call as far as the compiler
 * is concerned: qemu_co_asm_switch() pushes the callee-saved registers on
 * the current stack, stores the stack pointer into the old coroutine, loads
 * the new coroutine's stack pointer and pops its registers.  Caller-saved
 * registers need no care, since the compiler already assumes the call
 * clobbers them.
 *
 * The floating-point control registers (MXCSR and the x87 control word on
 * x86-64, FPCR on AArch64) are deliberately not switched: like the signal
 * mask they are thread state here, as with the ucontext backend (setjmp
 * does not save them either).  They would only matter to code that changes
 * the rounding mode or exception masks and yields before restoring them;
 * nothing in this project does.  Saving them would cost about 25 ns per
 * switch on the EPYC development host (stmxcsr alone takes ~12 ns), i.e.
 * half of an enter+yield round trip.

 * A fresh stack is prepared so that the first switch into it "returns" to
 * qemu_co_asm_start, which calls qemu_co_asm_entry(co) with a zero return
 * address and frame pointer, so backtraces stop there.
 *
 * Control-flow protection: both entry points start with a landing pad
 * (endbr64, bti c) when the compiler is asked for IBT/BTI, although they are
 * only reached by direct branches and ret.  Shadow stacks (x86 CET SHSTK)
 * are not supported, since the switch returns on another stack; a build
 * with -fcf-protection=full marks the binary as if they were, so it must
 * not be run with them enforced (glibc enables them only on request).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/coroutine.h"
#include "coroutine-asan.h"

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "coroutine-asm.c supports x86-64 and aarch64 only"
#endif

typedef struct CoroutineAsm {
    Coroutine base;
    void *sp;                   /* saved stack pointer while switched out */
    void *stack;                /* lowest usable address; NULL for leaders */
    CoroutineAsan asan;
} CoroutineAsm;

/* The thread's original stack, and the coroutine running now. */
static __thread CoroutineAsm leader;
static __thread Coroutine *current;

/*
 * Switch stacks: save callee-saved state on the current stack and its
 * stack pointer in *save_sp, continue on new_sp.  Returns 'action' as
 * passed by whoever switches back to us.
 */
CoroutineAction qemu_co_asm_switch(void **save_sp, void *new_sp,
                                   CoroutineAction action)
    __attribute__((visibility("hidden")));
void qemu_co_asm_start(void) __attribute__((visibility("hidden")));
void QEMU_NORETURN qemu_co_asm_entry(CoroutineAsm *co)
    __attribute__((visibility("hidden")));

/*
 * How the assembler spells a function's symbol type, and the landing pad
 * that indirect branch tracking (IBT, BTI) wants at entry points when the
 * compiler is asked for it.
 */
#if defined(__x86_64__)
#define CO_ASM_FUNCTION "@function"
#ifdef __CET__
#define CO_LANDING_PAD "    endbr64\n"
#endif
#elif defined(__aarch64__)
#define CO_ASM_FUNCTION "%function"
#if defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT
#define CO_LANDING_PAD "    hint #34\n"        /* bti c */
#endif
#endif
#ifndef CO_LANDING_PAD
#define CO_LANDING_PAD ""
#endif

/* A global function in the asm blocks below. */
#define CO_ASM_FUNC_BEGIN(name)                         \
    "    .p2align 4\n"                                  \
    "    .globl " #name "\n"                            \
    "    .type " #name ", " CO_ASM_FUNCTION "\n"        \
    #name ":\n"                                         \
    CO_LANDING_PAD
#define CO_ASM_FUNC_END(name)                           \
    "    .size " #name ", .-" #name "\n"

#if defined(__x86_64__)

/*
 * Frame of a switched-out stack, from the saved stack pointer upwards:
 * r15, r14, r13, r12, rbx, rbp and the return address.
 */

asm(
    "    .pushsection .text\n"
    CO_ASM_FUNC_BEGIN(qemu_co_asm_switch)
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    movl %edx, %eax\n"
    "    ret\n"
    CO_ASM_FUNC_END(qemu_co_asm_switch)
    "\n"
    CO_ASM_FUNC_BEGIN(qemu_co_asm_start)
    /* rsp points at a zero return address, 16-byte aligned above it. */
    "    movq %r12, %rdi\n"
    "    jmp qemu_co_asm_entry\n"
    CO_ASM_FUNC_END(qemu_co_asm_start)
    "    .popsection\n"
);

static void *co_init_stack(CoroutineAsm *co, uintptr_t top)
{
    uint64_t *sp = (uint64_t *)(top & ~(uintptr_t)15);

    *--sp = 0;                                  /* entry's return address */
    *--sp = (uintptr_t)qemu_co_asm_start;       /* popped by ret */
    *--sp = 0;                                  /* rbp: ends the fp chain */
    *--sp = 0;                                  /* rbx */
    *--sp = (uintptr_t)co;                      /* r12: argument for entry */
    *--sp = 0;                                  /* r13 */
    *--sp = 0;                                  /* r14 */
    *--sp = 0;                                  /* r15 */
    return sp;
}

static const char backend_name[] = "asm-x86_64";

#elif defined(__aarch64__)

/*
 * Frame of a switched-out stack (160 bytes, keeps sp 16-byte aligned):
 * x19..x28, x29 (fp), x30 (lr), d8..d15.
 */
asm(
    "    .pushsection .text\n"
    CO_ASM_FUNC_BEGIN(qemu_co_asm_switch)
    "    sub sp, sp, #160\n"
    "    stp x19, x20, [sp, #0]\n"
    "    stp x21, x22, [sp, #16]\n"
    "    stp x23, x24, [sp, #32]\n"
    "    stp x25, x26, [sp, #48]\n"
    "    stp x27, x28, [sp, #64]\n"
    "    stp x29, x30, [sp, #80]\n"
    "    stp d8, d9, [sp, #96]\n"
    "    stp d10, d11, [sp, #112]\n"
    "    stp d12, d13, [sp, #128]\n"
    "    stp d14, d15, [sp, #144]\n"
    "    mov x9, sp\n"
    "    str x9, [x0]\n"
    "    mov sp, x1\n"
    "    ldp x19, x20, [sp, #0]\n"
    "    ldp x21, x22, [sp, #16]\n"
    "    ldp x23, x24, [sp, #32]\n"
    "    ldp x25, x26, [sp, #48]\n"
    "    ldp x27, x28, [sp, #64]\n"
    "    ldp x29, x30, [sp, #80]\n"
    "    ldp d8, d9, [sp, #96]\n"
    "    ldp d10, d11, [sp, #112]\n"
    "    ldp d12, d13, [sp, #128]\n"
    "    ldp d14, d15, [sp, #144]\n"
    "    add sp, sp, #160\n"
    "    mov w0, w2\n"
    "    ret\n"
    CO_ASM_FUNC_END(qemu_co_asm_switch)
    "\n"
    CO_ASM_FUNC_BEGIN(qemu_co_asm_start)
    "    mov x0, x19\n"
    "    mov x30, xzr\n"
    "    b qemu_co_asm_entry\n"
    CO_ASM_FUNC_END(qemu_co_asm_start)
    "    .popsection\n"
);

static void *co_init_stack(CoroutineAsm *co, uintptr_t top)
{
    uint64_t *sp = (uint64_t *)(top & ~(uintptr_t)15) - 20;

    memset(sp, 0, 20 * sizeof(*sp));    /* x20..x29 = 0, d8..d15 = 0 */
    sp[0] = (uintptr_t)co;              /* x19: argument for entry */
    sp[11] = (uintptr_t)qemu_co_asm_start;  /* x30: where ret goes */
    return sp;
}

static const char backend_name[] = "asm-aarch64";

#endif

/* First code run on a fresh stack. */
void qemu_co_asm_entry(CoroutineAsm *co)
{
    coroutine_asan_finish(&co->asan);
    coroutine_trampoline_entry(&co->base);
}

Coroutine *qemu_coroutine_new(void)
{
    CoroutineAsm *co = g_new0(CoroutineAsm, 1);

    co->stack = qemu_coroutine_stack_alloc();
    co->sp = co_init_stack(co, (uintptr_t)co->stack + COROUTINE_STACK_SIZE);
    coroutine_asan_init(&co->asan, co->stack, COROUTINE_STACK_SIZE);
    return &co->base;
}

void qemu_coroutine_delete(Coroutine *co_)
{
    CoroutineAsm *co = container_of(co_, CoroutineAsm, base);

    qemu_coroutine_stack_free(co->stack);
    g_free(co);
}

CoroutineAction qemu_coroutine_switch(Coroutine *from_, Coroutine *to_,
                                      CoroutineAction action)
{
    CoroutineAsm *from = container_of(from_, CoroutineAsm, base);
    CoroutineAsm *to = container_of(to_, CoroutineAsm, base);
    CoroutineAction ret;

    /* Whoever switches sets 'current'; nothing thread-local after. */
    current = to_;
    coroutine_asan_start(&from->asan, &to->asan, action);
    ret = qemu_co_asm_switch(&from->sp, to->sp, action);
    coroutine_asan_finish(&from->asan);
    return ret;
}

Coroutine *qemu_coroutine_backend_self(void)
{
    Coroutine *self = current;

    if (unlikely(!self)) {
        self = current = &leader.base;
    }
    return self;
}

bool qemu_coroutine_backend_in_coroutine(void)
{
    Coroutine *self = current;

    return self && self != &leader.base;
}

const char *qemu_coroutine_backend_name(void)
{
    return backend_name;
}
