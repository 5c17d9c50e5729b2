#ifndef TW_FORKED_H
#define TW_FORKED_H

/* How this multi-threaded process forks the children that never execute anything of their own
   (the keeper, the helpers asking sockets), and what those children may call besides system
   calls: no allocation, no stdio, no lock the parent's other threads may have held at the fork. */

/* A fork by the system call itself (fork, or clone with SIGCHLD as the exit signal and no other
   flag where there is no fork): 0 in the child, the child's pid in the parent, or -1 with errno
   set. Unlike the C library's fork() it runs no pthread_atfork handler and takes none of the C
   library's locks (malloc's, stdio's), which another thread of this process may hold at that
   moment: what the child may do afterwards is what this file says. The child's C library still
   believes it has the parent's threads; it must not create any. */
int tw_raw_fork(void);

/* Writes `value` in decimal after `text` (which has room), without the C library's formatting.
   Returns the end. */
char *tw_decimal(char *text, unsigned long long value);

/* Closes every descriptor of the parent's from 3 up but `keep` (a pipe the child answers
   through), its tun descriptors least of all. */
void tw_close_all_but(int keep);

#endif
