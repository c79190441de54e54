/* progress.h — one line of progress on standard error for the commands
 * that go through many feeds one after the other (add): feeds done of the
 * total and alerts so far, redrawn in place; nothing at all when standard
 * error is not a terminal, so scripts and logs see only the results. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct progress {
	const char	*what;
	size_t		 done, total, alerts;
	bool		 on;		/* standard error is a terminal */
	bool		 shown;		/* a line is on screen */
};

/* Starts counting total feeds for the command named what. */
void progress_start(struct progress *p, const char *what, size_t total);
/* One more feed done, alerts more alerts: redraws the line. */
void progress_step(struct progress *p, size_t alerts);
/* Wipes the line before other output to standard error or standard
 * output on the same terminal; the next step draws it again. */
void progress_clear(struct progress *p);
/* Wipes the line for good. */
void progress_done(struct progress *p);
