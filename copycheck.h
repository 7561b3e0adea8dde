/*-------------------------------------------------------------------------
 *
 * copycheck.h
 *	  Check the records of a plain segment while it is being copied.
 *
 *-------------------------------------------------------------------------
 */
#ifndef COPYCHECK_H
#define COPYCHECK_H

#include "restore.h"

/* Copy the next "size" bytes of in_fd to out_fd (restore.c). */
typedef RestoreResult (*CopyChunk) (int in_fd, int out_fd, off_t size,
									char *problem, size_t problem_size);

extern bool copy_and_check_segment(int in_fd, int out_fd, uint32 seg_size,
								   const SegmentExpectation *expect,
								   CopyChunk copy_chunk, RestoreResult *result,
								   char *problem, size_t problem_size);

#endif							/* COPYCHECK_H */
