/*-------------------------------------------------------------------------
 *
 * verify_judge.c
 *	  pg_standby --verify: what the files of an archive mean together.
 *
 * Each file has been checked on its own (verify.c).  Here the archive is
 * judged as a whole: gaps between the segments of a timeline, files of
 * another system, forms of one segment that differ, timeline history files
 * against each other and against the segments, and, for --from, whether
 * replay from a starting point reaches the end of the archive.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <unistd.h>

#include "access/xlog_internal.h"
#include "common/logging.h"
#include "pg_standby.h"
#include "verify_internal.h"
#include "walfile.h"

static SegmentFile *
find_segment(Verify *v, TimeLineID tli, XLogSegNo segno, bool valid_full)
{
	for (int i = 0; i < v->nsegments; i++)
	{
		SegmentFile *sf = &v->segments[i];

		if (sf->tli == tli && sf->segno == segno && sf->valid &&
			(!valid_full || !sf->partial))
			return sf;
	}
	return NULL;
}
static HistoryFile *
find_history(Verify *v, TimeLineID tli)
{
	for (int i = 0; i < v->nhistories; i++)
	{
		if (v->histories[i].tli == tli && v->histories[i].nentries > 0)
			return &v->histories[i];
	}
	return NULL;
}

/*
 * The ranges of consecutive valid complete segments, timeline by timeline:
 * call with *pos = 0, then again while it returns true.
 */
bool
next_segment_range(const Verify *v, int *pos, TimeLineID *tli,
				   XLogSegNo *first, XLogSegNo *last)
{
	int			i = *pos;

	while (i < v->nsegments &&
		   (!v->segments[i].valid || v->segments[i].partial))
		i++;
	if (i >= v->nsegments)
	{
		*pos = i;
		return false;
	}
	*tli = v->segments[i].tli;
	*first = *last = v->segments[i].segno;
	for (i++; i < v->nsegments && v->segments[i].tli == *tli; i++)
	{
		const SegmentFile *sf = &v->segments[i];

		if (!sf->valid || sf->partial)
			continue;
		if (sf->segno > *last + 1)
			break;
		*last = Max(*last, sf->segno);
	}
	*pos = i;
	return true;
}

/* Missing segments between two ranges of one timeline. */
void
judge_gaps(Verify *v)
{
	TimeLineID	tli,
				prev_tli = 0;
	XLogSegNo	first,
				last,
				prev_last = 0;
	int			pos = 0;

	while (next_segment_range(v, &pos, &tli, &first, &last))
	{
		if (tli == prev_tli)
		{
			char		a[MAXFNAMELEN],
						b[MAXFNAMELEN];

			XLogFileName(a, tli, prev_last + 1, v->seg_size);
			XLogFileName(b, tli, first - 1, v->seg_size);
			add_finding(v, "gap", a, true,
						"Segments %s to %s of timeline %u are missing.",
						a, b, tli);
		}
		prev_tli = tli;
		prev_last = last;
	}
}

/*
 * Timeline history files against each other and against the segments.
 * A child's history repeats its parent's; the child's first segment holds
 * the parent's WAL up to the switch point and its own after it; the
 * parent's WAL goes no further than the switch point (else two servers
 * wrote WAL after the branch: a fork).
 */
void
judge_histories(Verify *v)
{
	for (int h = 0; h < v->nhistories; h++)
	{
		HistoryFile *hf = &v->histories[h];
		HistoryFile *parent;
		HistoryEntry *last;
		XLogSegNo	switch_seg;
		SegmentFile *child;
		char		name[MAXFNAMELEN];

		if (hf->nentries == 0)
			continue;
		last = &hf->entries[hf->nentries - 1];

		/* the parent's history is the child's, without its last line */
		parent = find_history(v, last->tli);
		for (int i = 0; parent != NULL && i < hf->nentries - 1; i++)
		{
			if (parent->nentries != hf->nentries - 1 ||
				parent->entries[i].tli != hf->entries[i].tli ||
				parent->entries[i].end != hf->entries[i].end)
			{
				add_finding(v, "history", hf->file, true,
							"It contradicts %s about timeline %u.",
							parent->file, hf->entries[i].tli);
				break;
			}
		}

		if (v->seg_size == 0)
			continue;
		XLByteToSeg(last->end, switch_seg, v->seg_size);

		/* the parent's WAL must end at the switch point */
		for (int i = 0; i < v->nsegments; i++)
		{
			SegmentFile *sf = &v->segments[i];

			if (sf->tli != last->tli || !sf->valid)
				continue;
			if (sf->segno == switch_seg && !sf->partial &&
				sf->summary.end > last->end)
				add_finding(v, "fork", sf->file, true,
							"Timeline %u goes on after %X/%X, where timeline %u branched from it (%s).",
							last->tli, LSN_FORMAT_ARGS(last->end), hf->tli,
							hf->file);
			else if (sf->segno > switch_seg && !sf->partial)
				add_finding(v, "fork", sf->file, true,
							"Timeline %u goes on after %X/%X, where timeline %u branched from it (%s).",
							last->tli, LSN_FORMAT_ARGS(last->end), hf->tli,
							hf->file);
			else if (sf->segno == switch_seg &&
					 sf->summary.end < last->end && !sf->summary.continues)
				add_finding(v, "history", hf->file, true,
							"The switch point %X/%X lies beyond the end of WAL of timeline %u at %X/%X in %s.",
							LSN_FORMAT_ARGS(last->end), last->tli,
							LSN_FORMAT_ARGS(sf->summary.end), sf->file);
		}

		/* the child's first segment switches timeline at the switch point */
		child = find_segment(v, hf->tli, switch_seg, false);
		if (child != NULL)
		{
			XLogRecPtr	expected = TYPEALIGN(XLOG_BLCKSZ, last->end);

			if (child->own_tli_from != InvalidXLogRecPtr ?
				child->own_tli_from != expected :
				child->summary.end > expected)
				add_finding(v, "history", hf->file, true,
							"It says timeline %u began at %X/%X, but %s holds timeline %u from %X/%X on.",
							hf->tli, LSN_FORMAT_ARGS(last->end), child->file,
							hf->tli, LSN_FORMAT_ARGS(child->own_tli_from));
		}
		else
		{
			/* the child's segments must begin at the switch segment */
			for (int i = 0; i < v->nsegments; i++)
			{
				SegmentFile *sf = &v->segments[i];

				if (sf->tli == hf->tli && sf->valid && !sf->partial)
				{
					if (sf->segno > switch_seg)
					{
						XLogFileName(name, hf->tli, switch_seg, v->seg_size);
						add_finding(v, "gap", name, true,
									"Timeline %u begins in segment %s (switch point %X/%X), which is missing.",
									hf->tli, name, LSN_FORMAT_ARGS(last->end));
					}
					break;
				}
			}
		}
	}

	/* every timeline after the first needs its history file */
	for (int i = 0; i < v->nsegments; i++)
	{
		SegmentFile *sf = &v->segments[i];
		char		name[MAXFNAMELEN];

		if (sf->tli > 1 && sf->valid &&
			(i == 0 || sf[-1].tli != sf->tli) && find_history(v, sf->tli) == NULL)
		{
			TLHistoryFileName(name, sf->tli);
			add_finding(v, "history", name, true,
						"Timeline %u has segments but no valid history file.",
						sf->tli);
		}
	}
}

/* Files that failed, other systems, forms that differ, .partial files. */
void
judge_segments(Verify *v)
{
	for (int i = 0; i < v->nsegments; i++)
	{
		SegmentFile *sf = &v->segments[i];

		if (!sf->valid)
		{
			add_finding(v, "refused", sf->file, true, "%s", sf->problem);
			continue;
		}
		if (sf->sysid != v->sysid)
		{
			add_finding(v, "foreign", sf->file, true,
						"Its system identifier is %llu, but the archive's is %llu (%s).",
						(unsigned long long) sf->sysid,
						(unsigned long long) v->sysid, v->sysid_source);
			sf->valid = false;
			continue;
		}
		if (sf->crc_known)
		{
			/* the first valid form is the one the restore path uses */
			SegmentFile *used = sf;

			for (SegmentFile *o = sf - 1; o >= v->segments && same_segment(o, sf); o--)
				if (o->valid)
					used = o;
			if (used != sf && !EQ_CRC32C(used->crc, sf->crc))
				add_finding(v, "duplicate", sf->file, true,
							"Its contents differ from %s, which the restore path uses.",
							used->file);
		}
		if (sf->partial)
		{
			SegmentFile *full = find_segment(v, sf->tli, sf->segno, true);
			bool		branched = false;

			for (int h = 0; h < v->nhistories; h++)
			{
				HistoryFile *hf = &v->histories[h];

				if (hf->nentries > 0 &&
					hf->entries[hf->nentries - 1].tli == sf->tli)
					branched = true;
			}
			/* whole sentences, which a translation can reorder */
			if (full != NULL)
				add_finding(v, "partial", sf->file, false,
							"It holds WAL of timeline %u up to %X/%X; the complete segment is present too.",
							sf->tli, LSN_FORMAT_ARGS(sf->summary.end));
			else if (branched)
				add_finding(v, "partial", sf->file, false,
							"It holds WAL of timeline %u up to %X/%X, the last segment of this timeline at a promotion (a newer timeline branched from it), and is not needed for replay.",
							sf->tli, LSN_FORMAT_ARGS(sf->summary.end));
			else
				add_finding(v, "partial", sf->file, false,
							"It holds WAL of timeline %u up to %X/%X and is not yet complete; pg_standby uses it only at smart failover.",
							sf->tli, LSN_FORMAT_ARGS(sf->summary.end));
		}
	}
}

/*
 * Parse "START WAL LOCATION: X/Y (file NAME)" and its like from a backup
 * history file or a backup_label.
 */
static bool
parse_backup_start(const char *data, const char *label, XLogRecPtr *lsn,
				   TimeLineID *tli, XLogRecPtr *stop)
{
	const char *p = strstr(data, label);
	unsigned int hi,
				lo;
	char		name[MAXFNAMELEN];

	if (p == NULL ||
		sscanf(p + strlen(label), "%X/%X (file %24s)", &hi, &lo, name) != 3 ||
		!IsXLogFileName(name))
		return false;
	*lsn = ((uint64) hi << 32) | lo;
	sscanf(name, "%08X", tli);
	if (stop != NULL)
	{
		p = strstr(data, "STOP WAL LOCATION: ");
		*stop = InvalidXLogRecPtr;
		if (p != NULL &&
			sscanf(p + strlen("STOP WAL LOCATION: "), "%X/%X", &hi, &lo) == 2)
			*stop = ((uint64) hi << 32) | lo;
	}
	return true;
}
void
judge_backups(Verify *v)
{
	for (int i = 0; i < v->nbackups; i++)
	{
		char		path[MAXPGPATH];
		char		problem[512];
		char	   *data;
		size_t		len;
		XLogRecPtr	start,
					stop;
		TimeLineID	tli;

		snprintf(path, sizeof(path), "%s/%s", v->archive_dir, v->backups[i]);
		data = read_text_file(path, &len, problem, sizeof(problem));
		if (data == NULL)
		{
			add_finding(v, "refused", v->backups[i], true, "%s", problem);
			continue;
		}
		if (!parse_backup_start(data, "START WAL LOCATION: ", &start, &tli,
								&stop))
			add_finding(v, "refused", v->backups[i], true,
						"It is not a backup history file: it has no line \"START WAL LOCATION\".");
		else
			add_finding(v, "backup", v->backups[i], false,
						"A base backup on timeline %u is consistent once WAL from %X/%X to %X/%X is replayed.",
						tli, LSN_FORMAT_ARGS(start), LSN_FORMAT_ARGS(stop));
		pg_free(data);
	}
}

/* --from: where replay starts. */
static void
resolve_from(Verify *v)
{
	char		problem[512];
	char		path[MAXPGPATH];
	char	   *data;
	size_t		len;
	uint32		log,
				seg;

	if (IsXLogFileName(v->from))
	{
		parse_segment_name(v->from, &v->from_tli, &log, &seg);
		if (v->seg_size == 0)
		{
			v->from_lsn = InvalidXLogRecPtr;
			return;
		}
		v->from_lsn = ((uint64) log << 32) + (uint64) seg * v->seg_size;
		return;
	}
	if (strchr(v->from, '/') == NULL && access(v->from, R_OK) != 0)
		snprintf(path, sizeof(path), "%s/%s", v->archive_dir, v->from);
	else
		strlcpy(path, v->from, sizeof(path));
	data = read_text_file(path, &len, problem, sizeof(problem));
	if (data == NULL)
	{
		pg_log_error("could not read --from file \"%s\"", path);
		pg_log_error_detail("%s", problem);
		exit(EXIT_CONFIG_ERROR);
	}
	if (!parse_backup_start(data, "START WAL LOCATION: ", &v->from_lsn,
							&v->from_tli, NULL))
	{
		pg_log_error("file \"%s\" is neither a backup history file nor a backup_label",
					 path);
		pg_log_error_detail("It has no line \"START WAL LOCATION: X/X (file NAME)\".");
		exit(EXIT_CONFIG_ERROR);
	}
	pg_free(data);
}

/*
 * Can replay from v->from_lsn on timeline v->from_tli reach the end of the
 * archive?  The server reads each segment from the newest timeline of the
 * target's history that had begun by then (XLogFileReadAnyTLI); the target
 * is the newest timeline in the archive.  Every such segment, up to the
 * last one present on that path, must be present and valid, and its WAL
 * must not end before the next segment.
 */
void
judge_from(Verify *v)
{
	TimeLineID	target = 1;
	HistoryFile *hf;
	HistoryEntry path[256];
	int			npath = 0;
	XLogSegNo	start_seg,
				last_seg = 0;
	bool		have_last = false;
	char		answer[1024];
	char		name[MAXFNAMELEN];
	int			from_index = -1;

	resolve_from(v);
	v->from_checked = true;
	for (int i = 0; i < v->nsegments; i++)
		if (v->segments[i].valid)
			target = Max(target, v->segments[i].tli);
	for (int i = 0; i < v->nhistories; i++)
		if (v->histories[i].nentries > 0)
			target = Max(target, v->histories[i].tli);

	/* the target's history, oldest first, then the target itself */
	hf = find_history(v, target);
	if (hf != NULL)
		for (int i = 0; i < hf->nentries && npath < lengthof(path) - 1; i++)
			path[npath++] = hf->entries[i];
	path[npath].tli = target;
	path[npath].end = PG_UINT64_MAX;
	npath++;

	for (int i = 0; i < npath; i++)
		if (path[i].tli == v->from_tli)
			from_index = i;
	if (v->seg_size == 0)
	{
		set_problem(answer, sizeof(answer), "The archive holds no valid segment.");
		goto cannot;
	}
	if (from_index < 0 || v->from_lsn >= path[from_index].end)
	{
		set_problem(answer, sizeof(answer),
					"The start %X/%X on timeline %u is not on the history of timeline %u, the newest in the archive.",
					LSN_FORMAT_ARGS(v->from_lsn), v->from_tli, target);
		goto cannot;
	}

	XLByteToSeg(v->from_lsn, start_seg, v->seg_size);
	for (int i = 0; i < v->nsegments; i++)
	{
		SegmentFile *sf = &v->segments[i];

		for (int p = from_index; p < npath; p++)
		{
			XLogSegNo	begin = 0;

			if (p > 0)
				XLByteToSeg(path[p - 1].end, begin, v->seg_size);
			if (sf->valid && !sf->partial && sf->tli == path[p].tli &&
				sf->segno >= Max(begin, start_seg))
			{
				last_seg = have_last ? Max(last_seg, sf->segno) : sf->segno;
				have_last = true;
			}
		}
	}
	if (!have_last)
	{
		XLogFileName(name, v->from_tli, start_seg, v->seg_size);
		set_problem(answer, sizeof(answer), "The first segment needed, %s, is not in the archive.", name);
		goto cannot;
	}

	for (XLogSegNo segno = start_seg; segno <= last_seg; segno++)
	{
		TimeLineID	tli = path[from_index].tli;
		SegmentFile *sf;

		for (int p = from_index + 1; p < npath; p++)
		{
			XLogSegNo	begin;

			XLByteToSeg(path[p - 1].end, begin, v->seg_size);
			if (segno >= begin)
				tli = path[p].tli;
		}
		sf = find_segment(v, tli, segno, true);
		XLogFileName(name, tli, segno, v->seg_size);
		if (sf == NULL)
		{
			set_problem(answer, sizeof(answer),
						"Replay stops before %s, which is missing or refused.", name);
			goto cannot;
		}
		if (segno < last_seg && !sf->summary.continues &&
			!sf->summary.switched &&
			sf->summary.end < (segno + 1) * (uint64) v->seg_size)
		{
			set_problem(answer, sizeof(answer),
						"Replay stops at %X/%X in %s, where its WAL ends.",
						LSN_FORMAT_ARGS(sf->summary.end), name);
			goto cannot;
		}
		if (segno == last_seg)
		{
			set_problem(answer, sizeof(answer),
						"Replay from %X/%X on timeline %u reaches %X/%X in %s, the end of the archive on timeline %u.",
						LSN_FORMAT_ARGS(v->from_lsn), v->from_tli,
						LSN_FORMAT_ARGS(sf->summary.end), name, target);
			v->reaches_end = true;
			v->from_answer = pg_strdup(answer);
			return;
		}
	}
cannot:
	v->reaches_end = false;
	v->from_answer = pg_strdup(answer);
}
