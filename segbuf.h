/*-------------------------------------------------------------------------
 *
 * segbuf.h
 *	  Bring a whole segment into memory, to check it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef SEGBUF_H
#define SEGBUF_H

extern bool reserve_segment_buffer(char **buffer, size_t *buffer_size,
								   size_t size, char *problem,
								   size_t problem_size);
extern bool read_segment_range(int fd, char *buffer, size_t from, size_t to,
							   char *problem, size_t problem_size);
extern bool read_segment_into(int fd, char *buffer, size_t size,
							  char *problem, size_t problem_size);
extern char *read_whole_segment(int fd, size_t size, char *problem,
								size_t problem_size);
extern const char *map_segment_copy(int fd, size_t size);
extern void unmap_segment_copy(const char *contents, size_t size);

#endif							/* SEGBUF_H */
