/*-------------------------------------------------------------------------
 *
 * fuzz_options.c
 *	  libFuzzer target: the command line.
 *
 * The input is split at NUL bytes into arguments, which go through the
 * same option parsing and request checks as a real run.  pg_standby.c is
 * included whole, with its main() renamed, and exit() (which a real run
 * calls on a configuration error) returns here instead, so that every
 * path is explored in one process.  Run it with -close_fd_mask=3: the
 * error messages are expected.
 *
 *-------------------------------------------------------------------------
 */
#include <setjmp.h>

static jmp_buf fuzz_exit_point;

static void fuzz_exit(int status) __attribute__((noreturn));

static void
fuzz_exit(int status)
{
	longjmp(fuzz_exit_point, status + 1);
}

#define main pg_standby_main
#define exit fuzz_exit
#include "../pg_standby.c"
#undef exit
#undef main

#define MAX_ARGS	16

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool initialized = false;
	char	   *copy;
	char	   *argv[MAX_ARGS + 2];
	int			argc = 0;
	volatile int status;

	if (!initialized)
	{
		pg_logging_init("pg_standby");
		initialized = true;
	}

	copy = pg_malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[argc++] = "pg_standby";
	for (char *p = copy; p <= copy + size && argc <= MAX_ARGS;
		 p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;

	/* reset what a previous run may have set */
	optind = 0;
	trigger_path = restart_name = NULL;
	keep_files = 0;
	max_retries = 3;

	status = setjmp(fuzz_exit_point);
	if (status == 0)
	{
		parse_command_line(argc, argv);
		check_request();
	}
	else if (status - 1 != EXIT_CONFIG_ERROR)
		__builtin_trap();

	pg_free(copy);
	return 0;
}
