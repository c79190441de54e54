/* test_buf.c — the capped byte buffer, the bare byte array of the parser's
 * hot paths and the growable array: caps, overflow, failure leaves the
 * data as it was. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "testutil.h"

START_TEST(test_buf_cap)
{
	struct buf	b;

	buf_init(&b, 8);
	ck_assert_int_eq(buf_append(&b, "12345", 5), 0);
	ck_assert_int_eq(buf_append(&b, "6789", 4), -E2BIG);
	ck_assert_str_eq(b.data, "12345");
	ck_assert_int_eq(buf_append(&b, "678", 3), 0);
	ck_assert_str_eq(b.data, "12345678");
	buf_done(&b);
}
END_TEST

START_TEST(test_bytes_append_cap)
{
	char		*d = NULL;
	size_t		 len = 0, cap = 0, i;
	/* volatile: the compiler must not see these sizes and refuse the
	 * memcpy that they never reach. */
	volatile size_t	 all = SIZE_MAX, most = SIZE_MAX - 2;

	/* Grows from 4 bytes, doubling, to the cap and not past it. */
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(bytes_append(&d, &len, &cap, 4, 10, "x", 1), 0);
	ck_assert_uint_eq(len, 10);
	ck_assert_uint_ge(cap, 10);
	ck_assert_int_eq(bytes_append(&d, &len, &cap, 4, 10, "y", 1), -E2BIG);
	ck_assert_uint_eq(len, 10);
	ck_assert(memcmp(d, "xxxxxxxxxx", 10) == 0);
	/* Nothing to append is never an error, at the cap or with no data. */
	ck_assert_int_eq(bytes_append(&d, &len, &cap, 4, 10, "y", 0), 0);
	free(d);
	d = NULL;
	len = cap = 0;
	ck_assert_int_eq(bytes_append(&d, &len, &cap, 4, 10, NULL, 0), 0);
	ck_assert_ptr_null(d);
	/* A length that would wrap around is refused before any copy. */
	ck_assert_int_eq(bytes_append(&d, &len, &cap, 4, 10, "z", all), -E2BIG);
	ck_assert_int_eq(bytes_append(&d, &len, &cap, 4, 10, "xxxxx", 5), 0);
	ck_assert_int_eq(bytes_append(&d, &len, &cap, 4, SIZE_MAX, "z",
	    most), -E2BIG);
	ck_assert_uint_eq(len, 5);
	free(d);
}
END_TEST

START_TEST(test_array_reserve)
{
	uint64_t	*v = NULL;
	size_t		 cap = 0;

	ck_assert_int_eq(array_reserve((void **)&v, &cap, 3, sizeof(*v), 2), 0);
	ck_assert_uint_eq(cap, 4);
	v[3] = 42;
	ck_assert_int_eq(array_reserve((void **)&v, &cap, 4, sizeof(*v), 2), 0);
	ck_assert_uint_eq(cap, 4);
	ck_assert_int_eq(array_reserve((void **)&v, &cap, 9, sizeof(*v), 2), 0);
	ck_assert_uint_eq(cap, 16);
	ck_assert_uint_eq(v[3], 42);
	/* A byte size past SIZE_MAX fails before any allocation and leaves
	 * the array alone. */
	ck_assert_int_eq(array_reserve((void **)&v, &cap, SIZE_MAX / 4,
	    sizeof(*v), 2), -ENOMEM);
	ck_assert_uint_eq(cap, 16);
	ck_assert_uint_eq(v[3], 42);
	free(v);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("buf");
	TCase	*tc = tcase_create("grow");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_buf_cap);
	tcase_add_test(tc, test_bytes_append_cap);
	tcase_add_test(tc, test_array_reserve);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
