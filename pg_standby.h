/*-------------------------------------------------------------------------
 *
 * pg_standby.h
 *	  The exit statuses of pg_standby, its answer to the server, and how
 *	  the reason for a refusal is passed to the code that logs it.
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

#include <stdarg.h>

#define EXIT_RESTORED			0	/* %p holds the requested file */
#define EXIT_NOT_AVAILABLE		1	/* absent history file, or failover */
#define EXIT_CONFIG_ERROR		254 /* unusable command line or setup */
#define EXIT_GAVE_UP			255 /* a present file could not be copied */

/* PostgreSQL 18 replaced pg_attribute_noreturn() with pg_noreturn. */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/* Report a usage error's hint and exit with EXIT_CONFIG_ERROR. */
extern pg_noreturn void configuration_error(void);

/*
 * The one way a file that looks at an archived file records why it refused
 * it, or why it could not be restored: in a buffer of the caller's.  The
 * restore path logs it as the detail of "could not restore file", and
 * --verify prints it after the file's name, so it is a detail message in
 * the style guide's form: a complete sentence, capitalized and ending with
 * a period, that says what was found and, where it matters, what was
 * expected ("Could not open file \"%s\": %m.", "The page address is
 * %X/%X, but the file name says %X/%X.").  It is translated here, where
 * its format is known (nls.mk lists set_problem among the gettext
 * triggers).
 */
static inline void set_problem_v(char *problem, size_t problem_size,
								 const char *fmt, va_list args) pg_attribute_printf(3, 0);
static inline void set_problem(char *problem, size_t problem_size,
							   const char *fmt,...) pg_attribute_printf(3, 4);

static inline void
set_problem_v(char *problem, size_t problem_size, const char *fmt,
			  va_list args)
{
	vsnprintf(problem, problem_size, _(fmt), args);
}

static inline void
set_problem(char *problem, size_t problem_size, const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	set_problem_v(problem, problem_size, fmt, args);
	va_end(args);
}

#endif							/* PG_STANDBY_H */
