/* fuzz_conf.c — libFuzzer target for the configuration loader.
 *
 * conf_load() takes a path, so each input is written to a memfd and loaded
 * through /proc/self/fd/N. Every error must come back as data (a negative
 * errno plus file:line:col messages), never as a crash, a leak or undefined
 * behaviour. A configuration that loads is also handed to the rule compiler,
 * so topic terms reach classifier_new() from real YAML as well.
 *
 * Not fuzzed here: the secret_file/value_file keys read other files, which
 * an input can name; the target runs in a scratch directory (.ci/fuzz.sh) so
 * relative names find nothing. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "classify.h"
#include "conf.h"
#include "error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 fd = -1;
	struct fw_errors	 errs = { 0 };
	struct conf		*c = NULL;
	struct classifier	*cl = NULL;
	char			 path[64], line[2048];

	if (fd < 0) {
		fd = memfd_create("fuzz_conf.yaml", MFD_CLOEXEC);
		if (fd < 0)
			abort();
	}
	if (ftruncate(fd, 0) < 0)
		abort();
	if (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	if (conf_load(path, &c, &errs) == 0) {
		if (classifier_new(c, &cl, &errs) == 0)
			cl = classifier_free(cl);
		for (size_t i = 0; i < c->n_feeds; i++)
			(void)conf_find_feed(c, c->feeds[i].url);
		c = conf_free(c);
	}
	/* Format every message, as check-config does. */
	for (size_t i = 0; i < errs.n; i++)
		(void)fw_error_format(&errs.v[i], line, sizeof(line));
	fw_errors_done(&errs);
	return 0;
}
