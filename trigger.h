/*-------------------------------------------------------------------------
 *
 * trigger.h
 *	  Failover requests: signals, a "promote" file, the trigger file.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TRIGGER_H
#define TRIGGER_H

/* A failover request, from the weakest to the strongest. */
typedef enum Failover
{
	FAILOVER_NONE,
	FAILOVER_UNDECIDED,			/* a trigger file is being written */
	FAILOVER_SMART,				/* restore what is there, then end */
	FAILOVER_FAST				/* end now */
} Failover;

/*
 * An empty trigger file changed this recently (seconds) may still be being
 * written: FAILOVER_UNDECIDED asks the caller to look again after this long.
 */
#define TRIGGER_SETTLE_TIME		0.02

extern void handle_failover_signals(void);
extern Failover check_failover(const char *trigger_path);
extern void report_failover(Failover failover, const char *trigger_path);

#endif							/* TRIGGER_H */
