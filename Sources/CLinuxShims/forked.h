#ifndef TW_FORKED_H
#define TW_FORKED_H

/* What the forked children of this multi-threaded process may call besides system calls: no
   allocation, no stdio, no lock the parent's other threads may have held at the fork. */

/* Writes `value` in decimal after `text` (which has room), without the C library's formatting.
   Returns the end. */
char *tw_decimal(char *text, unsigned long long value);

/* Closes every descriptor of the parent's from 3 up but `keep` (a pipe the child answers
   through), its tun descriptors least of all. */
void tw_close_all_but(int keep);

#endif
