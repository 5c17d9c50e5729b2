#ifdef __linux__
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "forked.h"

/* What forked.h declares: the fork itself, and what its children call besides system calls. */

int tw_raw_fork(void) {
#if defined(SYS_fork)
    return (int)syscall(SYS_fork);
#elif defined(__s390__) || defined(__CRIS__)
    /* CONFIG_CLONE_BACKWARDS2: the stack comes first, the flags second. */
    return (int)syscall(SYS_clone, 0UL, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL);
#else
    /* Every other order (CONFIG_CLONE_BACKWARDS, BACKWARDS3 and the generic one) starts with the
       flags; the other arguments are 0 (the parent's stack, no tid or tls to set) in any order. */
    return (int)syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, 0UL, 0UL, 0UL);
#endif
}

char *tw_decimal(char *text, unsigned long long value) {
    char digits[24];
    int count = 0;
    do { digits[count++] = (char)('0' + value % 10); value /= 10; } while (value > 0);
    while (count > 0) *text++ = digits[--count];
    return text;
}

void tw_close_all_but(int keep) {
    for (int other = 3; other < keep; other++) close(other);
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0) != 0)
#endif
    for (int other = keep + 1; other < 4096; other++) close(other);
}
#endif
