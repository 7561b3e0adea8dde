/*-------------------------------------------------------------------------
 *
 * segbuf.h
 *	  Read a whole segment into memory, to check it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGBUF_H
#define SEGBUF_H

extern char *read_whole_segment(int fd, size_t size, char *problem,
								size_t problem_size);

#endif							/* SEGBUF_H */
