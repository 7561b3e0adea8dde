/*-------------------------------------------------------------------------
 *
 * verify_report.c
 *	  pg_standby --verify: the report, as text or JSON, and the exit status.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "access/xlog_internal.h"
#include "verify.h"
#include "verify_internal.h"

static void
print_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* Per timeline, the ranges of segments present. */
static void
print_ranges(const Verify *v, FILE *out)
{
	TimeLineID	tli,
				prev_tli = 0;
	XLogSegNo	first,
				last;
	int			pos = 0;
	char		a[MAXFNAMELEN],
				b[MAXFNAMELEN];

	if (v->json)
		fprintf(out, "  \"timelines\": [");
	while (next_segment_range(v, &pos, &tli, &first, &last))
	{
		XLogFileName(a, tli, first, v->seg_size);
		XLogFileName(b, tli, last, v->seg_size);
		if (!v->json)
		{
			if (tli != prev_tli)
				fprintf(out, "timeline %u:\n", tli);
			fprintf(out, "  present: %s - %s (%llu segments)\n", a, b,
					(unsigned long long) (last - first + 1));
		}
		else
		{
			if (tli != prev_tli)
				fprintf(out, "%s\n    {\"timeline\": %u, \"ranges\": [",
						prev_tli != 0 ? "]}," : "", tli);
			else
				fprintf(out, ", ");
			fprintf(out, "{\"first\": \"%s\", \"last\": \"%s\", \"segments\": %llu}",
					a, b, (unsigned long long) (last - first + 1));
		}
		prev_tli = tli;
	}
	if (v->json)
		fprintf(out, "%s\n  ],\n", prev_tli != 0 ? "]}" : "");
}

int
verify_exit_status(const Verify *v)
{
	if (v->from_checked && !v->reaches_end)
		return VERIFY_CANNOT_REPLAY;
	return v->nproblems > 0 ? VERIFY_PROBLEMS : VERIFY_CLEAN;
}
void
print_report(const Verify *v)
{
	FILE	   *out = stdout;
	int			npartial = 0;

	for (int i = 0; i < v->nsegments; i++)
		npartial += v->segments[i].partial;

	if (v->json)
	{
		fprintf(out, "{\n  \"archive\": ");
		print_json_string(out, v->archive_dir);
		fprintf(out, ",\n  \"segment_size\": %u,\n  \"system_identifier\": \"%llu\",\n",
				v->seg_size, (unsigned long long) v->sysid);
		fprintf(out, "  \"files\": {\"segments\": %d, \"partial\": %d, \"timeline_history\": %d, \"backup_history\": %d, \"other\": %d},\n",
				v->nsegments - npartial, npartial, v->nhistories,
				v->nbackups, v->nother);
		print_ranges(v, out);
		fprintf(out, "  \"findings\": [");
		for (int i = 0; i < v->nfindings; i++)
		{
			const Finding *f = &v->findings[i];

			fprintf(out, "%s\n    {\"kind\": \"%s\", \"problem\": %s, \"file\": ",
					i > 0 ? "," : "", f->kind, f->problem ? "true" : "false");
			if (f->file)
				print_json_string(out, f->file);
			else
				fprintf(out, "null");
			fprintf(out, ", \"message\": ");
			print_json_string(out, f->message);
			fprintf(out, "}");
		}
		fprintf(out, "\n  ],\n");
		if (v->from_checked)
		{
			fprintf(out, "  \"from\": {\"source\": ");
			print_json_string(out, v->from);
			fprintf(out, ", \"timeline\": %u, \"lsn\": \"%X/%X\", \"reaches_end\": %s, \"answer\": ",
					v->from_tli, LSN_FORMAT_ARGS(v->from_lsn),
					v->reaches_end ? "true" : "false");
			print_json_string(out, v->from_answer);
			fprintf(out, "},\n");
		}
		fprintf(out, "  \"problems\": %d,\n  \"status\": %d\n}\n",
				v->nproblems, verify_exit_status(v));
		return;
	}

	fprintf(out, "archive \"%s\": %d segments, %d partial, %d timeline history, %d backup history, %d other files\n",
			v->archive_dir, v->nsegments - npartial, npartial, v->nhistories,
			v->nbackups, v->nother);
	if (v->seg_size != 0)
		fprintf(out, "segment size %u bytes, system identifier %llu (%s)\n",
				v->seg_size, (unsigned long long) v->sysid, v->sysid_source);
	print_ranges(v, out);
	for (int i = 0; i < v->nfindings; i++)
	{
		const Finding *f = &v->findings[i];

		fprintf(out, "%s: %s%s%s\n", f->kind, f->file ? f->file : "",
				f->file ? ": " : "", f->message);
	}
	if (v->from_checked)
		fprintf(out, "from %s: %s: %s\n", v->from,
				v->reaches_end ? "yes" : "no", v->from_answer);
	if (v->nproblems == 0)
		fprintf(out, "no problems found\n");
	else
		fprintf(out, "%d problem%s found\n", v->nproblems,
				v->nproblems == 1 ? "" : "s");
}
