/*-------------------------------------------------------------------------
 *
 * readahead.h
 *	  The server's read-ahead (recovery_prefetch).
 *
 *-------------------------------------------------------------------------
 */
#ifndef READAHEAD_H
#define READAHEAD_H

extern bool read_ahead_enabled(void);
extern bool first_request_for_segment(const char *restore_path,
									  const char *segment);

#endif							/* READAHEAD_H */
