/*-------------------------------------------------------------------------
 *
 * verify.h
 *	  pg_standby --verify: check a whole archive directory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef VERIFY_H
#define VERIFY_H

/*
 * Exit statuses of --verify.  1 is left to failures of the program itself
 * (out of memory exits with 1 in the frontend libraries), so that a
 * monitoring script never reads one as a verdict.  Usage errors and an
 * archive that cannot be read exit with EXIT_CONFIG_ERROR, as every other
 * mode does.
 */
#define VERIFY_CLEAN			0	/* nothing wrong found */
#define VERIFY_PROBLEMS			2	/* the report lists problems */
#define VERIFY_CANNOT_REPLAY	3	/* --from: replay stops before the end */

extern bool verify_requested(int argc, char **argv);
extern int	verify_main(int argc, char **argv);

#endif							/* VERIFY_H */
