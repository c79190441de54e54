/* feeds_file.c — writing and editing the small included files that hold
 * feeds added by `feedwatch import-opml` and `feedwatch add`.
 *
 * The main configuration file is the user's, comments and all: tools never
 * rewrite it. They write one new file per operation into the directory of
 * the 'include' glob (the conf.d convention), with libyaml's emitter (which
 * quotes what needs quoting), to a temporary name first, so that a daemon
 * reloading at that moment reads the whole file or none of it. Removing a
 * feed rewrites only the included file that holds it, from its parsed
 * document, or deletes the file when no feed is left.
 *
 * Not here: validation (the verbs load the whole configuration again after
 * writing and undo the write when it fails). */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>
#include <yaml.h>

#include "feeds_file.h"

#define NAME_MAX_LEN	40

char *
feeds_file_dir(const struct conf *c, struct fw_error *reterr)
{
	char	*abs, *dir = NULL, *slash;

	if (c->include == NULL) {
		abs = realpath(c->path, NULL);
		if (abs == NULL) {
			fw_error_set(reterr, c->path, 0, 0, "cannot resolve: %s", strerror(errno));
			return NULL;
		}
		*strrchr(abs, '/') = '\0';
		if (asprintf(&dir, "%s/%s", abs, "feeds.d") < 0)
			dir = NULL;
		free(abs);
		return dir;
	}
	/* 'include' is absolute once loaded (conf.c resolves it). */
	slash = strrchr(c->include, '/');
	if (slash == NULL || strpbrk(slash + 1, "/") != NULL)
		return NULL;
	if ((dir = strndup(c->include, (size_t)(slash - c->include))) == NULL)
		return NULL;
	if (strpbrk(dir, "*?[") != NULL || fnmatch(slash + 1, "feed.yaml", 0) != 0) {
		fw_error_set(reterr, c->path, 0, 0, "include '%s': feedwatch writes NAME.yaml "
		    "files into one directory, which this glob does not name", c->include);
		free(dir);
		return NULL;
	}
	return dir;
}

static bool
name_taken(const struct conf *c, const char *name, char *const *taken, size_t n_taken)
{
	for (size_t i = 0; i < c->n_feeds; i++)
		if (c->feeds[i].name != NULL && strcmp(c->feeds[i].name, name) == 0)
			return true;
	for (size_t i = 0; i < n_taken; i++)
		if (strcmp(taken[i], name) == 0)
			return true;
	return false;
}

/* s as words of lower-case letters and digits (any script, by Unicode
 * category) joined by single dashes, at most NAME_MAX_LEN bytes and never a
 * cut character, into out (NAME_MAX_LEN + 1 bytes). */
static void
slug(const char *s, char *out)
{
	const utf8proc_uint8_t	*p = (const utf8proc_uint8_t *)s;
	utf8proc_int32_t	 cp;
	utf8proc_uint8_t	 enc[4];
	utf8proc_ssize_t	 len, elen;
	size_t			 n = 0;
	bool			 dash = false;

	for (; p != NULL && *p != '\0'; p += len) {
		len = utf8proc_iterate(p, -1, &cp);
		if (len <= 0) {
			len = 1;
			dash = true;
			continue;
		}
		switch (utf8proc_category(cp)) {
		case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
		case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
		case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
		case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC:
			break;
		default:
			dash = true;
			continue;
		}
		elen = utf8proc_encode_char(utf8proc_tolower(cp), enc);
		if (n + (dash && n > 0) + (size_t)elen > NAME_MAX_LEN)
			break;
		if (dash && n > 0)
			out[n++] = '-';
		dash = false;
		memcpy(out + n, enc, (size_t)elen);
		n += (size_t)elen;
	}
	out[n] = '\0';
}

char *
feeds_file_name(const struct conf *c, const char *title, const char *url,
    char *const *taken, size_t n_taken)
{
	char		 base[NAME_MAX_LEN + 1], *name = NULL;
	const char	*host;

	slug(title, base);
	if (base[0] == '\0' && url != NULL) {
		/* The host, without "www.": "https://www.example.org/x" → "example-org". */
		host = strstr(url, "://");
		host = host != NULL ? host + 3 : url;
		if (strncmp(host, "www.", 4) == 0)
			host += 4;
		slug(host, base);
		if (strchr(host, '/') != NULL)
			slug(strndupa(host, (size_t)(strchr(host, '/') - host)), base);
	}
	if (base[0] == '\0')
		strcpy(base, "feed");
	for (int k = 1; k < 10000; k++) {
		if (k == 1)
			name = strdup(base);
		else if (asprintf(&name, "%s-%d", base, k) < 0)
			name = NULL;
		if (name == NULL || !name_taken(c, name, taken, n_taken))
			return name;
		free(name);
	}
	return NULL;
}

/* ---- emitting ---------------------------------------------------------- */

static int
emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	return yaml_emitter_emit(e, ev) ? 0 : -EIO;
}

static int
emit_scalar(yaml_emitter_t *e, const char *s)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s),
	    1, 1, YAML_ANY_SCALAR_STYLE))
		return -ENOMEM;
	return emit(e, &ev);
}

static int
emit_list(yaml_emitter_t *e, const char *key, const char *const *v, size_t n)
{
	yaml_event_t	ev;
	int		r;

	if (n == 0)
		return 0;
	if ((r = emit_scalar(e, key)) < 0)
		return r;
	if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_FLOW_SEQUENCE_STYLE))
		return -ENOMEM;
	if ((r = emit(e, &ev)) < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = emit_scalar(e, v[i])) < 0)
			return r;
	yaml_sequence_end_event_initialize(&ev);
	return emit(e, &ev);
}

static int
emit_entry(yaml_emitter_t *e, const struct feeds_file_entry *f)
{
	yaml_event_t	ev;
	int		r;

	if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE))
		return -ENOMEM;
	if ((r = emit(e, &ev)) < 0 ||
	    (r = emit_scalar(e, "name")) < 0 || (r = emit_scalar(e, f->name)) < 0 ||
	    (r = emit_scalar(e, "url")) < 0 || (r = emit_scalar(e, f->url)) < 0)
		return r;
	if (f->interval != NULL &&
	    ((r = emit_scalar(e, "interval")) < 0 || (r = emit_scalar(e, f->interval)) < 0))
		return r;
	if ((r = emit_list(e, "topics", f->topics, f->n_topics)) < 0 ||
	    (r = emit_list(e, "tags", f->tags, f->n_tags)) < 0)
		return r;
	yaml_mapping_end_event_initialize(&ev);
	return emit(e, &ev);
}

static int
emit_feeds(FILE *out, const struct feeds_file_entry *v, size_t n)
{
	yaml_emitter_t	e;
	yaml_event_t	ev;
	int		r = -ENOMEM;

	if (!yaml_emitter_initialize(&e))
		return -ENOMEM;
	yaml_emitter_set_output_file(&e, out);
	yaml_emitter_set_unicode(&e, 1);
	yaml_emitter_set_width(&e, -1);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) || (r = emit(&e, &ev)) < 0)
		goto out;
	r = -ENOMEM;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
	    (r = emit(&e, &ev)) < 0)
		goto out;
	r = -ENOMEM;
	if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
	    (r = emit(&e, &ev)) < 0 || (r = emit_scalar(&e, "feeds")) < 0)
		goto out;
	r = -ENOMEM;
	if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
	    (r = emit(&e, &ev)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((r = emit_entry(&e, &v[i])) < 0)
			goto out;
	yaml_sequence_end_event_initialize(&ev);
	if ((r = emit(&e, &ev)) < 0)
		goto out;
	yaml_mapping_end_event_initialize(&ev);
	if ((r = emit(&e, &ev)) < 0)
		goto out;
	yaml_document_end_event_initialize(&ev, 1);
	if ((r = emit(&e, &ev)) < 0)
		goto out;
	yaml_stream_end_event_initialize(&ev);
	r = emit(&e, &ev);
out:
	yaml_emitter_delete(&e);
	return r;
}

/* A temporary file in dir that no '*.yaml' glob matches: *ret_path and an
 * open stream (0644: the service's user reads it). */
static int
tmp_open(const char *dir, char **ret_path, FILE **ret_f, struct fw_error *reterr)
{
	char	*tmp;
	int	 fd, r;

	if (asprintf(&tmp, "%s/.feedwatch.XXXXXX", dir) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 0644) < 0 || (*ret_f = fdopen(fd, "w")) == NULL) {
		r = errno > 0 ? -errno : -EIO;
		fw_error_set(reterr, dir, 0, 0, "cannot write a file there: %s", strerror(-r));
		if (fd >= 0) {
			(void)close(fd);
			(void)unlink(tmp);
		}
		free(tmp);
		return r;
	}
	*ret_path = tmp;
	return 0;
}

/* Flushes and closes f, to disk. */
static int
tmp_close(FILE *f, const char *path, struct fw_error *reterr)
{
	int r = 0;

	if (fflush(f) != 0 || fsync(fileno(f)) < 0)
		r = -errno;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r < 0)
		fw_error_set(reterr, path, 0, 0, "cannot write: %s", strerror(-r));
	return r;
}

int
feeds_file_write(const char *dir, const char *stem, const char *comment,
    const struct feeds_file_entry *v, size_t n, char **ret_path, struct fw_error *reterr)
{
	char	*tmp = NULL, *path = NULL;
	FILE	*f = NULL;
	int	 r;

	/* The stem is a file name in dir, never a path out of it. */
	if (stem[0] == '\0' || stem[0] == '.' || strchr(stem, '/') != NULL) {
		fw_error_set(reterr, dir, 0, 0, "'%s' cannot be a file name", stem);
		return -EINVAL;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		fw_error_set(reterr, dir, 0, 0, "cannot create the directory: %s", strerror(-r));
		return r;
	}
	if ((r = tmp_open(dir, &tmp, &f, reterr)) < 0)
		return r;
	if (comment != NULL)
		fprintf(f, "# %s\n", comment);
	r = emit_feeds(f, v, n);
	if (r < 0) {
		fw_error_set(reterr, tmp, 0, 0, "cannot write YAML: %s", strerror(-r));
		(void)fclose(f);
		goto out;
	}
	if ((r = tmp_close(f, tmp, reterr)) < 0)
		goto out;
	/* link() fails on an existing name: never over another file. */
	for (int k = 1; k < 1000; k++) {
		free(path);
		if ((k == 1 ? asprintf(&path, "%s/%s.yaml", dir, stem) :
		    asprintf(&path, "%s/%s-%d.yaml", dir, stem, k)) < 0) {
			path = NULL;
			r = -ENOMEM;
			goto out;
		}
		if (link(tmp, path) == 0) {
			*ret_path = path;
			path = NULL;
			r = 0;
			goto out;
		}
		if (errno != EEXIST) {
			r = -errno;
			fw_error_set(reterr, path, 0, 0, "cannot create: %s", strerror(-r));
			goto out;
		}
	}
	fw_error_set(reterr, dir, 0, 0, "too many files named %s-N.yaml", stem);
	r = -EEXIST;
out:
	(void)unlink(tmp);
	free(tmp);
	free(path);
	return r;
}

/* ---- removing ---------------------------------------------------------- */

/* The scalar value of key in mapping n, or NULL. */
static const char *
map_get(yaml_document_t *d, yaml_node_t *n, const char *key)
{
	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key);
		yaml_node_t *v = yaml_document_get_node(d, p->value);

		if (k != NULL && k->type == YAML_SCALAR_NODE && v != NULL &&
		    v->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, key) == 0)
			return (const char *)v->data.scalar.value;
	}
	return NULL;
}

/* Copies node n of src into dst, leaving out the node skip. Returns the
 * new node's id, or 0 on OOM. */
static int
copy_node(yaml_document_t *src, yaml_node_t *n, yaml_document_t *dst, const yaml_node_t *skip)
{
	int id = 0, a, b;

	switch (n->type) {
	case YAML_SCALAR_NODE:
		return yaml_document_add_scalar(dst, NULL, n->data.scalar.value,
		    (int)n->data.scalar.length, n->data.scalar.style);
	case YAML_SEQUENCE_NODE:
		id = yaml_document_add_sequence(dst, NULL, n->data.sequence.style);
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		    id != 0 && i < n->data.sequence.items.top; i++) {
			yaml_node_t *c = yaml_document_get_node(src, *i);

			if (c == skip)
				continue;
			if ((a = copy_node(src, c, dst, skip)) == 0 ||
			    !yaml_document_append_sequence_item(dst, id, a))
				return 0;
		}
		return id;
	case YAML_MAPPING_NODE:
		id = yaml_document_add_mapping(dst, NULL, n->data.mapping.style);
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		    id != 0 && p < n->data.mapping.pairs.top; p++) {
			if ((a = copy_node(src, yaml_document_get_node(src, p->key), dst, skip)) == 0 ||
			    (b = copy_node(src, yaml_document_get_node(src, p->value), dst, skip)) == 0 ||
			    !yaml_document_append_mapping_pair(dst, id, a, b))
				return 0;
		}
		return id;
	default:
		return 0;
	}
}

/* The comment lines at the top of path, to keep them in a rewrite. */
static char *
leading_comments(const char *path)
{
	FILE	*f = fopen(path, "re");
	char	 line[1024], *out = NULL;
	size_t	 len = 0;
	FILE	*mem;

	if (f == NULL || (mem = open_memstream(&out, &len)) == NULL) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	while (fgets(line, sizeof(line), f) != NULL && line[0] == '#')
		fputs(line, mem);
	fclose(f);
	fclose(mem);
	return out;
}

int
feeds_file_remove(const char *path, const char *key, struct fw_error *reterr)
{
	yaml_parser_t	 parser;
	yaml_document_t	 doc, out;
	yaml_emitter_t	 em;
	yaml_node_t	*root, *feeds = NULL, *victim = NULL;
	FILE		*f, *tf = NULL;
	char		*tmp = NULL, *dir = NULL, *comments = NULL;
	size_t		 n_items = 0;
	int		 r, have_out = 0;

	if ((f = fopen(path, "re")) == NULL) {
		r = -errno;
		fw_error_set(reterr, path, 0, 0, "cannot open: %s", strerror(-r));
		return r;
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		fw_error_set(reterr, path, (unsigned)parser.problem_mark.line + 1,
		    (unsigned)parser.problem_mark.column + 1, "YAML syntax error");
		yaml_parser_delete(&parser);
		fclose(f);
		return -EINVAL;
	}
	yaml_parser_delete(&parser);
	fclose(f);
	root = yaml_document_get_root_node(&doc);
	if (root != NULL && root->type == YAML_MAPPING_NODE)
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
		    p < root->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(&doc, p->key);

			if (k->type == YAML_SCALAR_NODE && strcmp((char *)k->data.scalar.value, "feeds") == 0)
				feeds = yaml_document_get_node(&doc, p->value);
		}
	if (feeds != NULL && feeds->type == YAML_SEQUENCE_NODE)
		for (yaml_node_item_t *i = feeds->data.sequence.items.start;
		    i < feeds->data.sequence.items.top; i++) {
			yaml_node_t	*item = yaml_document_get_node(&doc, *i);
			const char	*u = map_get(&doc, item, "url"), *nm = map_get(&doc, item, "name");

			n_items++;
			if (victim == NULL && ((u != NULL && strcmp(u, key) == 0) ||
			    (nm != NULL && strcmp(nm, key) == 0)))
				victim = item;
		}
	if (victim == NULL) {
		fw_error_set(reterr, path, 0, 0, "no feed '%s' in this file", key);
		r = -ENOENT;
		goto out;
	}
	if (n_items == 1 && root->data.mapping.pairs.top - root->data.mapping.pairs.start == 1) {
		if (unlink(path) < 0) {
			r = -errno;
			fw_error_set(reterr, path, 0, 0, "cannot delete: %s", strerror(-r));
			goto out;
		}
		r = 1;
		goto out;
	}
	r = -ENOMEM;
	if (!yaml_document_initialize(&out, NULL, NULL, NULL, 1, 1))
		goto out;
	have_out = 1;
	if (copy_node(&doc, root, &out, victim) == 0)
		goto out;
	if ((dir = strdup(path)) == NULL)
		goto out;
	*strrchr(dir, '/') = '\0';
	if ((r = tmp_open(dir, &tmp, &tf, reterr)) < 0)
		goto out;
	if ((comments = leading_comments(path)) != NULL)
		fputs(comments, tf);
	r = -ENOMEM;
	if (!yaml_emitter_initialize(&em)) {
		(void)fclose(tf);
		goto out;
	}
	yaml_emitter_set_output_file(&em, tf);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	/* yaml_emitter_dump() takes the document, also on failure. */
	have_out = 0;
	r = yaml_emitter_dump(&em, &out) && yaml_emitter_close(&em) ? 0 : -EIO;
	yaml_emitter_delete(&em);
	if (r < 0) {
		fw_error_set(reterr, tmp, 0, 0, "cannot write YAML");
		(void)fclose(tf);
		goto out;
	}
	if ((r = tmp_close(tf, tmp, reterr)) < 0)
		goto out;
	if (rename(tmp, path) < 0) {
		r = -errno;
		fw_error_set(reterr, path, 0, 0, "cannot replace: %s", strerror(-r));
		goto out;
	}
	r = 0;
out:
	if (tmp != NULL && r != 0)
		(void)unlink(tmp);
	if (have_out)
		yaml_document_delete(&out);
	yaml_document_delete(&doc);
	free(comments);
	free(tmp);
	free(dir);
	return r;
}
