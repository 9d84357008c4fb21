/*
 * test_record_config.c - record configs, callback configs and the index in
 * a real SQLite database: the (domain, app, stream) key and
 * ConfigAlreadyExists, matching precedence (stream-level over app-level,
 * exact app over "*"), formats round-trip, listing and paging, and the
 * index rows and slices that crash recovery and the API read.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "core/util.h"
#include "record/config.h"
#include "record/index.h"
#include "store/db.h"

#include <stdlib.h>
#include <unistd.h>

static char dir[256];

static int setup(void **state)
{
    oa_strlcpy(dir, "/tmp/onair-test-reccfg-XXXXXX", sizeof(dir));
    if (!mkdtemp(dir) || db_open(dir) || rec_store_migrate())
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[512];
    db_close();
    oa_snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct rec_config cfg(const char *app, const char *stream, const char *bucket)
{
    struct rec_config c;
    memset(&c, 0, sizeof(c));
    c.account_id = 1;
    oa_strlcpy(c.domain, "live.example.com", sizeof(c.domain));
    oa_strlcpy(c.app, app, sizeof(c.app));
    oa_strlcpy(c.stream, stream, sizeof(c.stream));
    oa_strlcpy(c.endpoint, "oss-local", sizeof(c.endpoint));
    oa_strlcpy(c.bucket, bucket, sizeof(c.bucket));
    c.delay_s = 180;
    c.nformats = 2;
    c.formats[0] = (struct rec_format){REC_FLV, REC_DEFAULT_OBJECT_PREFIX, "", 3600, 0};
    c.formats[1] =
        (struct rec_format){REC_M3U8, "r/{StartTime}_{EndTime}", REC_DEFAULT_SLICE_PREFIX, 600, 10};
    return c;
}

static void test_rank(void **state)
{
    assert_int_equal(rec_config_rank("*", "", "live", "s"), 0);
    assert_int_equal(rec_config_rank("live", "", "live", "s"), 1);
    assert_int_equal(rec_config_rank("*", "s", "live", "s"), 2);
    assert_int_equal(rec_config_rank("live", "s", "live", "s"), 3);
    assert_int_equal(rec_config_rank("other", "", "live", "s"), -1);
    assert_int_equal(rec_config_rank("live", "t", "live", "s"), -1);
    assert_int_equal(rec_config_rank("*", "t", "live", "s"), -1);
}

static void test_add_get_duplicate(void **state)
{
    struct rec_config c = cfg("live", "", "b-app");
    assert_int_equal(rec_config_add(&c), 0);
    assert_true(c.id > 0);
    struct rec_config again = cfg("live", "", "b-other");
    assert_int_equal(rec_config_add(&again), OA_EEXIST);
    /* Domain names compare without case, as hosts do. */
    struct rec_config upper = cfg("live", "", "b-other");
    oa_strlcpy(upper.domain, "LIVE.example.com", sizeof(upper.domain));
    assert_int_equal(rec_config_add(&upper), OA_EEXIST);

    struct rec_config out;
    assert_int_equal(rec_config_get("live.example.com", "live", "", &out), 0);
    assert_string_equal(out.bucket, "b-app");
    assert_int_equal(out.nformats, 2);
    assert_int_equal(out.formats[1].fmt, REC_M3U8);
    assert_string_equal(out.formats[1].object_prefix, "r/{StartTime}_{EndTime}");
    assert_string_equal(out.formats[1].slice_prefix, REC_DEFAULT_SLICE_PREFIX);
    assert_int_equal(out.formats[1].cycle_s, 600);
    assert_int_equal(out.formats[1].slice_s, 10);
    assert_int_equal(rec_config_get("live.example.com", "live", "x", &out), OA_ENOTFOUND);

    out.on_demand = 7;
    out.delay_s = 30;
    out.nformats = 1;
    assert_int_equal(rec_config_update(&out), 0);
    assert_int_equal(rec_config_get("live.example.com", "live", NULL, &out), 0);
    assert_int_equal(out.on_demand, 7);
    assert_int_equal(out.delay_s, 30);
    assert_int_equal(out.nformats, 1);
    assert_int_equal(rec_config_delete("live.example.com", "live", ""), 0);
    assert_int_equal(rec_config_delete("live.example.com", "live", ""), OA_ENOTFOUND);
}

static void test_match_precedence(void **state)
{
    const char *d = "live.example.com";
    struct rec_config c, out;
    assert_int_equal(rec_config_match(d, "live", "s1", &out), OA_ENOTFOUND);
    c = cfg("*", "", "b-any-app");
    assert_int_equal(rec_config_add(&c), 0);
    assert_int_equal(rec_config_match(d, "live", "s1", &out), 0);
    assert_string_equal(out.bucket, "b-any-app");
    c = cfg("live", "", "b-app");
    assert_int_equal(rec_config_add(&c), 0);
    assert_int_equal(rec_config_match(d, "live", "s1", &out), 0);
    assert_string_equal(out.bucket, "b-app");
    assert_int_equal(rec_config_match(d, "other", "s1", &out), 0);
    assert_string_equal(out.bucket, "b-any-app");
    c = cfg("*", "s1", "b-any-app-stream");
    assert_int_equal(rec_config_add(&c), 0);
    assert_int_equal(rec_config_match(d, "live", "s1", &out), 0);
    assert_string_equal(out.bucket, "b-any-app-stream");
    assert_int_equal(rec_config_match(d, "live", "s2", &out), 0);
    assert_string_equal(out.bucket, "b-app");
    c = cfg("live", "s1", "b-stream");
    assert_int_equal(rec_config_add(&c), 0);
    assert_int_equal(rec_config_match(d, "live", "s1", &out), 0);
    assert_string_equal(out.bucket, "b-stream");
    assert_int_equal(rec_config_match(d, "other", "s1", &out), 0);
    assert_string_equal(out.bucket, "b-any-app-stream");
    assert_int_equal(rec_config_match("other.example.com", "live", "s1", &out), OA_ENOTFOUND);
}

struct collect {
    int n;
    char buckets[8][64];
};

static void collect(const struct rec_config *c, void *arg)
{
    struct collect *k = arg;
    oa_strlcpy(k->buckets[k->n++], c->bucket, 64);
}

static void test_list(void **state)
{
    struct collect k = {0};
    int total = 0;
    assert_int_equal(
        rec_config_list("live.example.com", NULL, NULL, false, 0, 10, collect, &k, &total), 0);
    assert_int_equal(total, 4);
    assert_int_equal(k.n, 4);
    memset(&k, 0, sizeof(k));
    assert_int_equal(
        rec_config_list("live.example.com", "live", NULL, true, 1, 1, collect, &k, &total), 0);
    assert_int_equal(total, 2);
    assert_int_equal(k.n, 1);
    assert_string_equal(k.buckets[0], "b-app"); /* desc, second page of size 1 */
}

static void test_notify_config(void **state)
{
    struct rec_notify_config c = {
        "live.example.com", 1, "http://127.0.0.1:1/n", "", true, true, "key"};
    assert_int_equal(rec_notify_config_put(&c, false), OA_ENOTFOUND);
    assert_int_equal(rec_notify_config_put(&c, true), 0);
    assert_int_equal(rec_notify_config_put(&c, true), OA_EEXIST);
    struct rec_notify_config out;
    assert_int_equal(rec_notify_config_get("LIVE.example.com", &out), 0);
    assert_string_equal(out.notify_url, "http://127.0.0.1:1/n");
    assert_true(out.need_status_notify && out.notify_req_auth);
    c.need_status_notify = false;
    assert_int_equal(rec_notify_config_put(&c, false), 0);
    assert_int_equal(rec_notify_config_get("live.example.com", &out), 0);
    assert_false(out.need_status_notify);
    assert_int_equal(rec_notify_config_delete("live.example.com"), 0);
    assert_int_equal(rec_notify_config_get("live.example.com", &out), OA_ENOTFOUND);
}

static void count_file(const struct rec_file *f, void *arg)
{
    (*(int *)arg)++;
}

static void count_slice(const struct rec_slice *s, void *arg)
{
    (*(int *)arg)++;
}

static void test_index(void **state)
{
    struct rec_file f;
    memset(&f, 0, sizeof(f));
    oa_strlcpy(f.record_id, "11111111-2222-4333-8444-555555555555", sizeof(f.record_id));
    oa_strlcpy(f.kind, "file", sizeof(f.kind));
    oa_strlcpy(f.state, "recording", sizeof(f.state));
    f.account_id = 1;
    oa_strlcpy(f.domain, "live.example.com", sizeof(f.domain));
    oa_strlcpy(f.app, "live", sizeof(f.app));
    oa_strlcpy(f.stream, "s1", sizeof(f.stream));
    oa_strlcpy(f.format, "m3u8", sizeof(f.format));
    oa_strlcpy(f.bucket, "b", sizeof(f.bucket));
    oa_strlcpy(f.object, "r/x_recording.m3u8", sizeof(f.object));
    f.seq = 4;
    f.start_ms = 1000000;
    assert_int_equal(rec_index_insert(&f), 0);
    assert_int_equal(rec_index_max_seq("live.example.com", "live", "s1", "m3u8"), 4);
    assert_int_equal(rec_index_max_seq("live.example.com", "live", "s1", "flv"), -1);
    int n = 0;
    assert_int_equal(rec_index_foreach_recording(count_file, &n), 0);
    assert_int_equal(n, 1);
    int total = 0;
    n = 0;
    rec_index_list("live.example.com", "live", "s1", NULL, 0, INT64_MAX, false, 0, 10, count_file,
                   &n, &total);
    assert_int_equal(total, 0); /* not finished: not listed */

    struct rec_slice s;
    memset(&s, 0, sizeof(s));
    oa_strlcpy(s.file_record_id, f.record_id, sizeof(s.file_record_id));
    s.account_id = 1;
    oa_strlcpy(s.domain, f.domain, sizeof(s.domain));
    oa_strlcpy(s.app, "live", sizeof(s.app));
    oa_strlcpy(s.stream, "s1", sizeof(s.stream));
    oa_strlcpy(s.bucket, "b", sizeof(s.bucket));
    for (int i = 0; i < 3; i++) {
        oa_snprintf(s.object, sizeof(s.object), "r/%d.ts", i);
        s.seq = 10 + i;
        s.start_ms = 1000000 + i * 5000;
        assert_int_equal(rec_slice_insert(&s), 0);
        if (i < 2)
            assert_int_equal(rec_slice_finish(f.record_id, s.object, 5.0), 0);
    }
    assert_int_equal(rec_slice_max_seq("live.example.com", "live", "s1"), 12);
    n = 0;
    rec_slice_list_file(f.record_id, count_slice, &n);
    assert_int_equal(n, 3);
    n = 0;
    rec_slice_list_range("live.example.com", "live", "s1", "b", 1000000, 1004999, count_slice, &n);
    assert_int_equal(n, 1); /* done slices starting in the range; the open one is not */
    n = 0;
    rec_slice_list_range("live.example.com", "live", "s1", "b", 0, INT64_MAX, count_slice, &n);
    assert_int_equal(n, 2);

    oa_strlcpy(f.object, "r/x_final.m3u8", sizeof(f.object));
    f.end_ms = 1015000;
    f.duration = 15.0;
    assert_int_equal(rec_index_finish(&f), 0);
    struct rec_file out;
    assert_int_equal(rec_index_get(f.record_id, &out), 0);
    assert_string_equal(out.state, "done");
    assert_string_equal(out.object, "r/x_final.m3u8");
    assert_int_equal(rec_index_find_object("b", "r/x_final.m3u8", &out), 0);
    n = 0;
    rec_index_list("live.example.com", "live", "s1", NULL, 1014000, 1020000, false, 0, 10,
                   count_file, &n, &total);
    assert_int_equal(total, 1); /* overlaps the range */
    rec_index_list("live.example.com", "live", "s1", NULL, 1016000, 1020000, false, 0, 10,
                   count_file, &n, &total);
    assert_int_equal(total, 0);
    assert_int_equal(rec_slice_delete_file(f.record_id), 0);
    assert_int_equal(rec_index_delete(f.record_id), 0);
    assert_int_equal(rec_index_get(f.record_id, &out), OA_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rank),
        cmocka_unit_test(test_add_get_duplicate),
        cmocka_unit_test(test_match_precedence),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_notify_config),
        cmocka_unit_test(test_index),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
