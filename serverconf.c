/*-------------------------------------------------------------------------
 *
 * serverconf.c
 *	  Read a setting of the server that runs us from its configuration
 *	  files.
 *
 * Two settings change what pg_standby may safely do: recovery_prefetch
 * (whose read-ahead asks for the next segment before the current one is
 * replayed) and primary_conninfo (while we wait, the server cannot
 * stream).  A restore_command has no connection to ask the server, so we
 * read what the server read: the main configuration file (named in
 * postmaster.opts when it lives outside the data directory, as on Debian),
 * the files it includes, postgresql.auto.conf, and the command line
 * options in postmaster.opts, each later one overriding the earlier.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <dirent.h>

#include "common/logging.h"
#include "serverconf.h"

/* Deeper nesting than this is a loop; the server stops at 10 too. */
#define MAX_INCLUDE_DEPTH	10

typedef struct SettingSearch
{
	const char *name;			/* the setting looked for */
	char	   *value;			/* its last value seen */
	size_t		value_size;
	bool		found;
} SettingSearch;

static void parse_config_file(SettingSearch *search, const char *path,
							  bool missing_ok, int depth);

/* Resolve "path" relative to the directory of the file that names it. */
static void
resolve_relative(char *result, const char *including_file, const char *path)
{
	char		dir[MAXPGPATH];

	if (is_absolute_path(path))
	{
		strlcpy(result, path, MAXPGPATH);
		return;
	}
	strlcpy(dir, including_file, sizeof(dir));
	get_parent_directory(dir);
	if (dir[0] == '\0')
		strlcpy(result, path, MAXPGPATH);
	else
		snprintf(result, MAXPGPATH, "%s/%s", dir, path);
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* include_dir: every "*.conf" file of the directory, in name order. */
static void
parse_config_dir(SettingSearch *search, const char *path, int depth)
{
	DIR		   *dir = opendir(path);
	struct dirent *entry;
	char	  **names = NULL;
	int			count = 0;

	if (dir == NULL)
		return;
	while ((entry = readdir(dir)) != NULL)
	{
		size_t		len = strlen(entry->d_name);

		if (entry->d_name[0] == '.' || len < 5 ||
			strcmp(entry->d_name + len - 5, ".conf") != 0)
			continue;
		names = pg_realloc(names, (count + 1) * sizeof(char *));
		names[count++] = psprintf("%s/%s", path, entry->d_name);
	}
	closedir(dir);

	qsort(names, count, sizeof(char *), compare_names);
	for (int i = 0; i < count; i++)
	{
		parse_config_file(search, names[i], false, depth + 1);
		pg_free(names[i]);
	}
	pg_free(names);
}

/*
 * Split one configuration line into name and value, the server's way:
 * "name [=] value", the value bare or single-quoted ('' for a quote), and
 * "#" starting a comment outside quotes.  Returns false for blank lines
 * and lines we do not understand (the server would have refused those).
 */
static bool
split_config_line(const char *line, char *name, size_t name_size,
				  char *value, size_t value_size)
{
	const char *p = line + strspn(line, " \t");
	size_t		len = strspn(p, "abcdefghijklmnopqrstuvwxyz"
							 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.");
	size_t		out = 0;

	if (len == 0 || len >= name_size)
		return false;
	strlcpy(name, p, len + 1);
	p += len;
	p += strspn(p, " \t");
	if (*p == '=')
		p++;
	p += strspn(p, " \t");

	if (*p == '\'')
	{
		for (p++; *p != '\0'; p++)
		{
			if (*p == '\'' && p[1] == '\'')
				p++;
			else if (*p == '\'')
				break;
			if (out + 1 < value_size)
				value[out++] = *p;
		}
		if (*p != '\'')
			return false;
	}
	else
	{
		len = strcspn(p, " \t\r\n#");
		if (len >= value_size)
			return false;
		memcpy(value, p, len);
		out = len;
	}
	value[out] = '\0';
	return true;
}

static void
parse_config_file(SettingSearch *search, const char *path, bool missing_ok,
				  int depth)
{
	FILE	   *file;
	char		line[4096];

	if (depth > MAX_INCLUDE_DEPTH)
		return;
	file = fopen(path, "r");
	if (file == NULL)
	{
		if (!missing_ok)
			pg_log_debug("could not read configuration file \"%s\": %m", path);
		return;
	}
	while (fgets(line, sizeof(line), file) != NULL)
	{
		char		name[NAMEDATALEN];
		char		value[MAXPGPATH];
		char		included[MAXPGPATH];

		if (!split_config_line(line, name, sizeof(name), value, sizeof(value)))
			continue;
		if (pg_strcasecmp(name, "include") == 0 ||
			pg_strcasecmp(name, "include_if_exists") == 0)
		{
			resolve_relative(included, path, value);
			parse_config_file(search, included,
							  pg_strcasecmp(name, "include_if_exists") == 0,
							  depth + 1);
		}
		else if (pg_strcasecmp(name, "include_dir") == 0)
		{
			resolve_relative(included, path, value);
			parse_config_dir(search, included, depth);
		}
		else if (pg_strcasecmp(name, search->name) == 0)
		{
			strlcpy(search->value, value, search->value_size);
			search->found = true;
		}
	}
	fclose(file);
}

/*
 * postmaster.opts holds the server's command line as double-quoted
 * arguments.  Return the value of "-c NAME=VALUE" or "--NAME=VALUE" for
 * the given name, the last one winning; returns whether there is one.
 */
static bool
find_command_line_setting(const char *opts, const char *name, char *value,
						  size_t value_size)
{
	size_t		name_len = strlen(name);
	bool		found = false;
	const char *p = opts;

	while ((p = strchr(p, '"')) != NULL)
	{
		const char *arg = p + 1;
		const char *end = strchr(arg, '"');

		if (end == NULL)
			break;
		if (strncmp(arg, "--", 2) == 0)
			arg += 2;
		if ((size_t) (end - arg) > name_len &&
			pg_strncasecmp(arg, name, name_len) == 0 && arg[name_len] == '=')
		{
			strlcpy(value, arg + name_len + 1,
					Min(value_size, (size_t) (end - arg) - name_len));
			found = true;
		}
		p = end + 1;
	}
	return found;
}

/*
 * Find the value the server uses for setting "name".  Returns false if no
 * file we could read sets it (the server then uses its default).
 */
bool
read_server_setting(const char *name, char *value, size_t value_size)
{
	SettingSearch search = {name, value, value_size, false};
	char		config_file[MAXPGPATH] = "postgresql.conf";
	char		opts[8192] = "";
	FILE	   *file;

	file = fopen("postmaster.opts", "r");
	if (file != NULL)
	{
		size_t		n = fread(opts, 1, sizeof(opts) - 1, file);

		opts[n] = '\0';
		fclose(file);
		find_command_line_setting(opts, "config_file", config_file,
								  sizeof(config_file));
	}

	parse_config_file(&search, config_file, false, 0);
	parse_config_file(&search, "postgresql.auto.conf", true, 0);
	if (find_command_line_setting(opts, name, value, value_size))
		search.found = true;
	return search.found;
}
