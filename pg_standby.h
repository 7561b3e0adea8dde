/*-------------------------------------------------------------------------
 *
 * pg_standby.h
 *	  The exit statuses of pg_standby, its answer to the server.
 *
 * The server reads our exit status as the answer to its request: 0 is
 * "restored", any other status up to 125 is "not available" (in archive
 * recovery that ends recovery and promotes), and a status above 125 is a
 * fatal error that stops the server.  Every file that ends the process
 * chooses one of these, so they are defined once, here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_STANDBY_H
#define PG_STANDBY_H

#define EXIT_RESTORED			0	/* %p holds the requested file */
#define EXIT_NOT_AVAILABLE		1	/* absent history file, or failover */
#define EXIT_CONFIG_ERROR		254 /* unusable command line or setup */
#define EXIT_GAVE_UP			255 /* a present file could not be copied */

#endif							/* PG_STANDBY_H */
