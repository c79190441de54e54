/* feeds_file.h — the small YAML files that tools write into the config
 * directory (the 'include' glob, feeds.d/ by default): one `feeds:` list
 * each, written with libyaml's emitter, never over an existing file.
 * Never logs. */
#pragma once

#include <stddef.h>

#include "conf.h"
#include "error.h"

struct feeds_file_entry {
	const char		*url;
	const char		*name;
	const char *const	*tags;
	size_t			 n_tags;
	const char *const	*topics;
	size_t			 n_topics;
	const char		*interval;	/* as the user wrote it ("10m"), or NULL */
};

/* The directory new files go to, from conf's 'include' (owned; NULL with
 * *reterr when the glob's directory part is itself a pattern, or a file
 * named *.yaml there would not match it). */
char *feeds_file_dir(const struct conf *c, struct fw_error *reterr);

/* A feed name for title (or url when title is NULL or has no letters):
 * lower-case letters, digits and dashes, made unique against conf's feeds
 * and taken[0..n_taken). Owned; NULL on OOM. */
char *feeds_file_name(const struct conf *c, const char *title, const char *url,
    char *const *taken, size_t n_taken);

/* Writes entries as dir/STEM.yaml (STEM-2.yaml, ... when taken), creating
 * dir if needed, with comment (one line, may be NULL) on top. The file
 * appears whole or not at all. Returns 0 and *ret_path (owned). */
int feeds_file_write(const char *dir, const char *stem, const char *comment,
    const struct feeds_file_entry *v, size_t n, char **ret_path,
    struct fw_error *reterr) _must_check_;

/* Removes the feed whose url or name is key from the included file path:
 * the file is rewritten without it, or deleted when it was its last feed.
 * Returns 1 when the file was deleted, 0 when rewritten, or a negative
 * errno with *reterr (-ENOENT: no such feed in the file). */
int feeds_file_remove(const char *path, const char *key, struct fw_error *reterr) _must_check_;
