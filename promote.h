/*-------------------------------------------------------------------------
 *
 * promote.h
 *	  Ask the server to promote, and see whether someone else has.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PROMOTE_H
#define PROMOTE_H

extern bool request_promotion(void);
extern bool promotion_requested(void);
extern bool first_time_for_server(const char *note_path);

#endif							/* PROMOTE_H */
