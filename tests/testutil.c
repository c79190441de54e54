/* testutil.c — fixture paths, temp dirs and small file helpers for tests. */
#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "testutil.h"

const char *
tu_data_path(const char *rel)
{
	static char	 path[PATH_MAX];
	const char	*dir = getenv("FW_TEST_DATA");

	snprintf(path, sizeof(path), "%s/%s", dir != NULL ? dir : "tests/data", rel);
	return path;
}

char *
tu_read_file(const char *path, size_t *ret_len)
{
	FILE	*f = fopen(path, "rb");
	char	*data;
	long	 len;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert_int_ge(len, 0);
	rewind(f);
	data = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(data);
	ck_assert_uint_eq(fread(data, 1, (size_t)len, f), (size_t)len);
	data[len] = '\0';
	fclose(f);
	if (ret_len != NULL)
		*ret_len = (size_t)len;
	return data;
}

char *
tu_tmpdir(void)
{
	char *tmpl = strdup("/tmp/feedwatch-test-XXXXXX");

	ck_assert_ptr_nonnull(tmpl);
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	return tmpl;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void
tu_rmtree(const char *path)
{
	(void)nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *
tu_write_file(const char *dir, const char *name, const char *data)
{
	char	*path;
	FILE	*f;

	ck_assert_int_ge(asprintf(&path, "%s/%s", dir, name), 0);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, strlen(data), f), strlen(data));
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

char *
tu_state_target(const char *tmp)
{
	const char	*pg = getenv("FW_TEST_PG");
	struct db	*db = NULL;
	struct fw_error	 e;
	char		*path;

	if (pg == NULL) {
		ck_assert_int_ge(asprintf(&path, "%s/state.db", tmp), 0);
		return path;
	}
	ck_assert_msg(db_open(pg, &db, &e) == 0, "%s", e.msg);
	ck_assert_msg(db_exec(db, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public",
	    &e) == 0, "%s", e.msg);
	db_close(db);
	path = strdup(pg);
	ck_assert_ptr_nonnull(path);
	return path;
}
