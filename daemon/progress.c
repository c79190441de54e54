/* progress.c — the progress line of progress.h. The line goes to standard
 * error only when it is a terminal (isatty), and "\r\033[K" redraws it in
 * place; results go to standard output, between clears. */
#include <stdio.h>
#include <unistd.h>

#include "progress.h"

static void
draw(struct progress *p)
{
	fprintf(stderr, "\r\033[Kfeedwatch %s: %zu/%zu feeds, %zu %s so far", p->what, p->done,
	    p->total, p->alerts, p->alerts == 1 ? "alert" : "alerts");
	fflush(stderr);
	p->shown = true;
}

void
progress_start(struct progress *p, const char *what, size_t total)
{
	*p = (struct progress){ .what = what, .total = total,
	    .on = total > 1 && isatty(STDERR_FILENO) };
	if (p->on)
		draw(p);
}

void
progress_step(struct progress *p, size_t alerts)
{
	p->done++;
	p->alerts += alerts;
	if (p->on)
		draw(p);
}

void
progress_clear(struct progress *p)
{
	if (!p->on || !p->shown)
		return;
	fflush(stdout);
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->shown = false;
}

void
progress_done(struct progress *p)
{
	progress_clear(p);
	p->on = false;
}
