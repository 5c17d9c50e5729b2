#ifndef TUNWARDEN_CLINUXSHIMS_H
#define TUNWARDEN_CLINUXSHIMS_H

/*
 * The few Linux system calls and constants that Swift's Glibc module does not expose
 * (setns needs _GNU_SOURCE; ioctl is variadic). Each wrapper is a direct call with no
 * policy of its own: retrying EINTR and turning errno into errors is the Swift side's job.
 */
#ifdef __linux__
#include <sys/types.h>
#include <sys/socket.h>
#include <linux/netlink.h>

/// Moves the calling thread into the namespace behind `fd` (see setns(2)).
int tw_setns(int fd, int nstype);
/// The CLONE_NEWNET namespace type for tw_setns.
int tw_clone_newnet(void);
/// ioctl(2) with a pointer argument.
int tw_ioctl_ptr(int fd, unsigned long request, void *arg);
/// ioctl(2) with an integer argument.
int tw_ioctl_int(int fd, unsigned long request, unsigned long arg);
/// The calling thread's kernel thread id (gettid(2)).
int tw_gettid(void);
#endif

#endif
