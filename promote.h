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

#endif							/* PROMOTE_H */
