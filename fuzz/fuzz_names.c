/*-------------------------------------------------------------------------
 *
 * fuzz_names.c
 *	  libFuzzer target: classification of requested file names.
 *
 * Whatever the name, classify_wal_file_name() must not crash, and a name
 * it accepts must be one that cannot leave the directory it is joined to.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "access/xlog_internal.h"
#include "walfile.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		name[128];
	TimeLineID	tli;
	uint32		log;
	uint32		seg;
	WalFileKind kind;

	if (size >= sizeof(name))
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';

	kind = classify_wal_file_name(name);
	if (kind != WALFILE_INVALID &&
		(strchr(name, '/') != NULL || strstr(name, "..") != NULL ||
		 name[0] == '\0' || strlen(name) > MAXFNAMELEN))
		__builtin_trap();
	if ((kind == WALFILE_SEGMENT) !=
		parse_segment_name(name, &tli, &log, &seg))
		__builtin_trap();
	return 0;
}
