// SPDX-License-Identifier: Apache-2.0
/*
 * The host side of the differential tests: runs each case's bytes on the
 * real CPU in a child process. The child maps the code page (RWX) and the
 * data and stack pages at the fixed addresses of difftest.h, loads every
 * register from a context block (FXRSTOR, POPFQ, GPRs), jumps to the
 * sequence, whose tail jumps back to an exit stub that stores everything
 * again. A fault (SIGFPE, SIGSEGV, SIGILL, ...) is caught on an alternate
 * stack: the handler records the registers at the fault and the trap
 * number from the signal frame, then resumes the harness by rewriting the
 * frame's RIP/RSP. Results go to a shared mapping; if the child dies
 * anyway, the case in progress is marked lost and a new child goes on.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "difftest.h"

/* The context block the trampoline reads and writes (offsets used in asm). */
struct native_ctx {
	uint64_t gpr[16];  /* 0 */
	uint64_t rflags;   /* 128 */
	uint64_t entry;	   /* 136 */
	uint64_t host_rsp; /* 144 */
	uint32_t far_off;  /* 152: far pointer of the entry (m16:32) */
	uint16_t far_sel;  /* 156: 0x33 64-bit code, 0x23 compatibility mode */
	uint16_t pad;
	struct x86_fxsave fx; /* 160 */
};
_Static_assert(__builtin_offsetof(struct native_ctx, fx) == 160, "asm offsets");

__attribute__((visibility("hidden"), aligned(64))) struct native_ctx diff_nctx;

/* Returns 0 after the sequence ran to its end, 1 after a caught fault. */
int diff_native_enter(void);
void diff_native_exit(void);
void diff_native_resume(void);

__asm__(".text\n"
	".globl diff_native_enter\n"
	".type diff_native_enter, @function\n"
	"diff_native_enter:\n"
	"	push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
	"	mov %rsp, diff_nctx+144(%rip)\n"
	"	fxrstor64 diff_nctx+160(%rip)\n"
	"	pushq diff_nctx+128(%rip)\n"
	"	popfq\n"
	"	mov diff_nctx+0(%rip), %rax\n"
	"	mov diff_nctx+8(%rip), %rcx\n"
	"	mov diff_nctx+16(%rip), %rdx\n"
	"	mov diff_nctx+24(%rip), %rbx\n"
	"	mov diff_nctx+40(%rip), %rbp\n"
	"	mov diff_nctx+48(%rip), %rsi\n"
	"	mov diff_nctx+56(%rip), %rdi\n"
	"	mov diff_nctx+64(%rip), %r8\n"
	"	mov diff_nctx+72(%rip), %r9\n"
	"	mov diff_nctx+80(%rip), %r10\n"
	"	mov diff_nctx+88(%rip), %r11\n"
	"	mov diff_nctx+96(%rip), %r12\n"
	"	mov diff_nctx+104(%rip), %r13\n"
	"	mov diff_nctx+112(%rip), %r14\n"
	"	mov diff_nctx+120(%rip), %r15\n"
	"	mov diff_nctx+32(%rip), %rsp\n"
	"	ljmpl *diff_nctx+152(%rip)\n"
	".size diff_native_enter, .-diff_native_enter\n"
	".globl diff_native_exit\n"
	".type diff_native_exit, @function\n"
	"diff_native_exit:\n"
	"	mov %rax, diff_nctx+0(%rip)\n"
	"	mov %rcx, diff_nctx+8(%rip)\n"
	"	mov %rdx, diff_nctx+16(%rip)\n"
	"	mov %rbx, diff_nctx+24(%rip)\n"
	"	mov %rsp, diff_nctx+32(%rip)\n"
	"	mov %rbp, diff_nctx+40(%rip)\n"
	"	mov %rsi, diff_nctx+48(%rip)\n"
	"	mov %rdi, diff_nctx+56(%rip)\n"
	"	mov %r8, diff_nctx+64(%rip)\n"
	"	mov %r9, diff_nctx+72(%rip)\n"
	"	mov %r10, diff_nctx+80(%rip)\n"
	"	mov %r11, diff_nctx+88(%rip)\n"
	"	mov %r12, diff_nctx+96(%rip)\n"
	"	mov %r13, diff_nctx+104(%rip)\n"
	"	mov %r14, diff_nctx+112(%rip)\n"
	"	mov %r15, diff_nctx+120(%rip)\n"
	"	pushfq\n"
	"	popq diff_nctx+128(%rip)\n"
	"	fxsave64 diff_nctx+160(%rip)\n"
	"	mov diff_nctx+144(%rip), %rsp\n"
	"	cld\n"
	"	fninit\n"
	"	ldmxcsr diff_mxcsr_default(%rip)\n"
	"	xor %eax, %eax\n"
	"	pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
	"	ret\n"
	".size diff_native_exit, .-diff_native_exit\n"
	".globl diff_native_resume\n"
	".type diff_native_resume, @function\n"
	"diff_native_resume:\n"
	"	cld\n"
	"	fninit\n"
	"	ldmxcsr diff_mxcsr_default(%rip)\n"
	"	mov $1, %eax\n"
	"	pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
	"	ret\n"
	".size diff_native_resume, .-diff_native_resume\n"
	".section .rodata\n"
	".balign 4\n"
	"diff_mxcsr_default: .long 0x1f80\n"
	".text\n");

/* Linux's user code segments (arch/x86/include/asm/segment.h). */
#define LINUX_USER32_CS 0x23
#define LINUX_USER_CS 0x33

/* Registers caught at a fault. */
static struct {
	uint32_t vector;
	uint64_t error;
	uint64_t rip;
	uint64_t cr2;
} fault;

/* ucontext register slots in x86_gpr order. */
static const int greg_of[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8,	 REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	greg_t *g = uc->uc_mcontext.gregs;

	if ((uint64_t)g[REG_RIP] - DIFF_CODE_VA >= DIFF_CODE_SIZE) {
		/* Not the guest sequence: a real crash of the harness. */
		signal(sig, SIG_DFL);
		return;
	}
	for (int i = 0; i < 16; i++)
		diff_nctx.gpr[i] = (uint64_t)g[greg_of[i]];
	diff_nctx.rflags = (uint64_t)g[REG_EFL];
	fault.rip = (uint64_t)g[REG_RIP];
	fault.vector = (uint32_t)g[REG_TRAPNO];
	fault.error = (uint64_t)g[REG_ERR];
	fault.cr2 = (uint64_t)(uintptr_t)si->si_addr;
	if (uc->uc_mcontext.fpregs) {
		memcpy(&diff_nctx.fx, uc->uc_mcontext.fpregs, sizeof(diff_nctx.fx));
		/* Sane FPU state for the harness after sigreturn. */
		uc->uc_mcontext.fpregs->cwd = 0x37f;
		uc->uc_mcontext.fpregs->swd = 0;
		uc->uc_mcontext.fpregs->ftw = 0;
		uc->uc_mcontext.fpregs->mxcsr = 0x1f80;
	}
	g[REG_RIP] = (greg_t)(uintptr_t)diff_native_resume;
	g[REG_CSGSFS] = (g[REG_CSGSFS] & ~(greg_t)0xffff) | LINUX_USER_CS; /* from compat mode too */
	g[REG_RSP] = (greg_t)diff_nctx.host_rsp;
	g[REG_EFL] &= ~(greg_t)(X86_FLAGS_DF | X86_FLAGS_TF | X86_FLAGS_AC);
}

static int child_setup(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP };
	struct sigaction sa;
	stack_t ss;
	void *p;

	p = mmap((void *)DIFF_CODE_VA, DIFF_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)DIFF_CODE_VA)
		return -1;
	p = mmap((void *)DIFF_DATA_VA, DIFF_DATA_SIZE + 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)DIFF_DATA_VA)
		return -1;
	ss.ss_size = 1 << 16;
	ss.ss_sp = malloc(ss.ss_size);
	ss.ss_flags = 0;
	if (!ss.ss_sp || sigaltstack(&ss, NULL))
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			return -1;
	return 0;
}

static void run_one(const struct diff_case *c, struct diff_result *r)
{
	uint8_t *code = (uint8_t *)(uintptr_t)c->base;
	uint64_t exit_addr = (uint64_t)(uintptr_t)diff_native_exit;
	unsigned n = c->code_len;

	memcpy(code, c->code, n);
	if (c->compat) {
		/* jmp far 0x33:next (back to 64-bit mode) */
		uint32_t next = (uint32_t)(c->base + n + 7);

		code[n] = 0xea;
		memcpy(code + n + 1, &next, 4);
		code[n + 5] = LINUX_USER_CS;
		code[n + 6] = 0;
		n += 7;
	}
	/* jmp qword [rip+0]; dq diff_native_exit */
	code[n] = 0xff;
	code[n + 1] = 0x25;
	memset(code + n + 2, 0, 4);
	memcpy(code + n + 6, &exit_addr, 8);
	n = c->code_len;
	memcpy((void *)DIFF_DATA_VA, c->data, DIFF_DATA_SIZE);
	memset((void *)DIFF_STACK_VA, 0, 4096);

	memcpy(diff_nctx.gpr, c->gpr, sizeof(c->gpr));
	diff_nctx.gpr[X86_RSP] = DIFF_STACK_TOP;
	diff_nctx.rflags = (c->rflags & DIFF_CMP_FLAGS) | X86_FLAGS_FIXED;
	diff_nctx.entry = c->base;
	diff_nctx.far_off = (uint32_t)c->base;
	diff_nctx.far_sel = c->compat ? LINUX_USER32_CS : LINUX_USER_CS;
	diff_nctx.fx = c->fx;

	memset(r, 0, sizeof(*r));
	if (diff_native_enter() == 0) {
		r->status = DIFF_END;
		r->rip = c->base + n;
	} else {
		r->status = DIFF_EXC;
		r->vector = fault.vector;
		r->error = fault.error;
		r->rip = fault.rip;
		r->cr2 = fault.vector == X86_VEC_PF ? fault.cr2 : 0;
	}
	memcpy(r->gpr, diff_nctx.gpr, sizeof(r->gpr));
	r->rflags = diff_nctx.rflags;
	r->fx = diff_nctx.fx;
	memcpy(r->data, (void *)DIFF_DATA_VA, DIFF_DATA_SIZE);
}

struct shared {
	uint64_t next; /* the case the child works on */
	struct diff_result res[];
};

int diff_native_run(diff_gen_fn gen, void *opaque, uint64_t n, struct diff_result *res)
{
	size_t size = sizeof(struct shared) + n * sizeof(struct diff_result);
	struct shared *sh;
	uint64_t start = 0;
	struct diff_case *c;

	sh = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -errno;
	while (start < n) {
		pid_t pid;
		int st;

		sh->next = start;
		fflush(NULL);
		pid = fork();
		if (pid < 0) {
			munmap(sh, size);
			return -errno;
		}
		if (pid == 0) {
			c = malloc(sizeof(*c));
			if (!c || child_setup()) {
				fprintf(stderr, "difftest: native child setup failed\n");
				_exit(2);
			}
			alarm(60);
			for (uint64_t i = start; i < n; i++) {
				sh->next = i;
				gen(c, i, opaque);
				run_one(c, &sh->res[i]);
			}
			sh->next = n;
			_exit(0);
		}
		while (waitpid(pid, &st, 0) < 0) {
			if (errno != EINTR) {
				munmap(sh, size);
				return -errno;
			}
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 2) {
			munmap(sh, size);
			return -EIO;
		}
		if (sh->next >= n)
			break;
		/* The child died on case sh->next: mark it and go on after it. */
		memset(&sh->res[sh->next], 0, sizeof(sh->res[0]));
		sh->res[sh->next].status = DIFF_LOST;
		sh->res[sh->next].vector = WIFSIGNALED(st) ? (uint32_t)WTERMSIG(st) : 0;
		start = sh->next + 1;
	}
	memcpy(res, sh->res, n * sizeof(*res));
	munmap(sh, size);
	return 0;
}
