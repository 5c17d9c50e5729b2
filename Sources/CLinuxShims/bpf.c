/* The bpf(2) questions the inventory asks: which programs of the traffic-control types are
   loaded, and which tcx programs are attached to a device. */
#ifdef __linux__
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "CLinuxShims.h"

/* The bpf(2) commands and attach types used below, by number: headers older than Linux 6.6 do
 * not name the tcx ones, and these numbers are the kernel's ABI. */
enum {
    TW_BPF_PROG_GET_NEXT_ID = 11, TW_BPF_PROG_GET_FD_BY_ID = 13, TW_BPF_OBJ_GET_INFO_BY_FD = 15,
    TW_BPF_PROG_QUERY = 16, TW_BPF_PROG_TYPE_SCHED_CLS = 3, TW_BPF_PROG_TYPE_SCHED_ACT = 4,
    TW_BPF_TCX_INGRESS = 46, TW_BPF_TCX_EGRESS = 47,
};

static long tw_bpf(int command, void *attr, unsigned size) {
    long result;
    do { result = syscall(__NR_bpf, command, attr, size); } while (result < 0 && errno == EINTR);
    return result;
}

int tw_bpf_tc_programs_loaded(int *loaded) {
    *loaded = 0;
    unsigned id = 0;
    for (;;) {
        uint32_t next[4] = { id, 0, 0, 0 };
        if (tw_bpf(TW_BPF_PROG_GET_NEXT_ID, next, sizeof next) < 0) return errno == ENOENT ? 0 : errno;
        id = next[1];
        uint32_t by_id[4] = { id, 0, 0, 0 };
        long fd = tw_bpf(TW_BPF_PROG_GET_FD_BY_ID, by_id, sizeof by_id);
        if (fd < 0) {
            if (errno == ENOENT) continue;
            return errno;
        }
        uint32_t info[8];
        memset(info, 0, sizeof info);
        uint64_t get[2];
        uint32_t *words = (uint32_t *)get;
        words[0] = (uint32_t)fd;
        words[1] = sizeof info;
        get[1] = (uint64_t)(uintptr_t)info;
        long asked = tw_bpf(TW_BPF_OBJ_GET_INFO_BY_FD, get, sizeof get);
        int code = errno;
        close((int)fd);
        if (asked < 0) return code;
        if (info[0] == TW_BPF_PROG_TYPE_SCHED_CLS || info[0] == TW_BPF_PROG_TYPE_SCHED_ACT) {
            *loaded = 1;
            return 0;
        }
    }
}

int tw_bpf_tcx_query(int ifindex, int egress, unsigned *programs, unsigned *links, unsigned *count) {
    uint64_t attr[8];
    memset(attr, 0, sizeof attr);
    uint32_t *words = (uint32_t *)attr;
    words[0] = (uint32_t)ifindex;
    words[1] = egress ? TW_BPF_TCX_EGRESS : TW_BPF_TCX_INGRESS;
    attr[2] = (uint64_t)(uintptr_t)programs;
    words[6] = *count;
    attr[5] = (uint64_t)(uintptr_t)links;
    if (tw_bpf(TW_BPF_PROG_QUERY, attr, sizeof attr) < 0) {
        int code = errno;
        /* More programs than room: the count is still told. */
        if (code == ENOSPC) *count = words[6];
        return code;
    }
    *count = words[6];
    return 0;
}
#endif
