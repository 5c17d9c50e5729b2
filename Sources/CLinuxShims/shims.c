#ifdef __linux__
#define _GNU_SOURCE
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "CLinuxShims.h"

int tw_setns(int fd, int nstype) { return setns(fd, nstype); }
int tw_clone_newnet(void) { return CLONE_NEWNET; }
int tw_ioctl_ptr(int fd, unsigned long request, void *arg) { return ioctl(fd, request, arg); }
int tw_ioctl_int(int fd, unsigned long request, unsigned long arg) { return ioctl(fd, request, arg); }
int tw_gettid(void) { return (int)syscall(SYS_gettid); }
#endif
