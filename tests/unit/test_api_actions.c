/*
 * test_api_actions.c - the action table against the spec: every registered
 * action has the per-account limit that /work/shared/spec/aliyun-live-api.md
 * documents for it (sections 3-5; "QPS n" is {n, 1}, "10,000/min" is
 * {10000, 60}), every action the table below expects is registered, once,
 * with a handler. The expected values are copied from the spec by hand, so
 * a change to the registrations that drifts from it fails here. The two
 * actions the spec gives no QPS for are docs/api.md Choices (30, like the
 * other domain writes).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api/api.h"

#include <string.h>

enum source { SPEC, CHOICE };

static const struct {
    const char *name;
    int limit, window_s;
    enum source source;
} expected[] = {
    /* clang-format off */
    {"AddLiveDomain", 30, 1, SPEC},
    {"AddLiveDomainMapping", 30, 1, SPEC},
    {"DeleteLiveDomainMapping", 30, 1, CHOICE},
    {"DeleteLiveDomain", 30, 1, SPEC},
    {"StartLiveDomain", 30, 1, SPEC},
    {"StopLiveDomain", 30, 1, SPEC},
    {"DescribeLiveDomainDetail", 50, 1, SPEC},
    {"DescribeLiveUserDomains", 100, 1, SPEC},
    {"BatchSetLiveDomainConfigs", 30, 1, SPEC},
    {"DescribeLiveDomainConfigs", 100, 1, SPEC},
    {"DeleteLiveSpecificConfig", 30, 1, CHOICE},
    {"DescribeLiveStreamsOnlineList", 10000, 60, SPEC},
    {"DescribeLiveStreamsPublishList", 3, 1, SPEC},
    {"ForbidLiveStream", 20, 1, SPEC},
    {"ResumeLiveStream", 30, 1, SPEC},
    {"DescribeLiveStreamsBlockList", 50, 1, SPEC},
    {"DescribeLiveStreamsControlHistory", 50, 1, SPEC},
    {"AddLiveAppRecordConfig", 30, 1, SPEC},
    {"UpdateLiveAppRecordConfig", 30, 1, SPEC},
    {"DescribeLiveRecordConfig", 100, 1, SPEC},
    {"DeleteLiveAppRecordConfig", 50, 1, SPEC},
    {"RealTimeRecordCommand", 50, 1, SPEC},
    {"DescribeLiveStreamRecordIndexFiles", 15, 1, SPEC},
    {"DescribeLiveStreamRecordIndexFile", 100, 1, SPEC},
    {"DescribeLiveStreamRecordContent", 50, 1, SPEC},
    {"CreateLiveStreamRecordIndexFiles", 45, 1, SPEC},
    {"DeleteLiveStreamRecordIndexFiles", 100, 1, SPEC},
    {"AddLiveRecordNotifyConfig", 30, 1, SPEC},
    {"UpdateLiveRecordNotifyConfig", 30, 1, SPEC},
    {"DescribeLiveRecordNotifyConfig", 50, 1, SPEC},
    {"DeleteLiveRecordNotifyConfig", 30, 1, SPEC},
    {"DescribeLiveRecordNotifyRecords", 100, 1, SPEC},
    {"CreateCaster", 10, 1, SPEC},
    {"CopyCaster", 10, 1, SPEC},
    {"DeleteCaster", 10, 1, SPEC},
    {"DescribeCasters", 15, 1, SPEC},
    {"SetCasterConfig", 10, 1, SPEC},
    {"DescribeCasterConfig", 15, 1, SPEC},
    {"StartCaster", 10, 1, SPEC},
    {"StopCaster", 10, 1, SPEC},
    {"RestartCaster", 10, 1, SPEC},
    {"AddCasterVideoResource", 10, 1, SPEC},
    {"ModifyCasterVideoResource", 10, 1, SPEC},
    {"DeleteCasterVideoResource", 10, 1, SPEC},
    {"DescribeCasterVideoResources", 15, 1, SPEC},
    {"AddCasterLayout", 10, 1, SPEC},
    {"ModifyCasterLayout", 10, 1, SPEC},
    {"DeleteCasterLayout", 10, 1, SPEC},
    {"DescribeCasterLayouts", 15, 1, SPEC},
    {"DescribeCasterScenes", 15, 1, SPEC},
    {"DescribeCasterStreamUrl", 15, 1, SPEC},
    {"StartCasterScene", 10, 1, SPEC},
    {"StopCasterScene", 10, 1, SPEC},
    {"SetCasterSceneConfig", 10, 1, SPEC},
    {"UpdateCasterSceneConfig", 10, 1, SPEC},
    {"DeleteCasterSceneConfig", 10, 1, SPEC},
    {"CopyCasterSceneConfig", 10, 1, SPEC},
    {"UpdateCasterSceneAudio", 10, 1, SPEC},
    {"DescribeCasterSceneAudio", 15, 1, SPEC},
    /* clang-format on */
};

static void test_every_action_has_its_documented_limit(void **state)
{
    for (size_t i = 0; i < api_action_count; i++) {
        const struct api_action *a = &api_actions[i];
        size_t j = 0;
        while (j < OA_ARRAY_SIZE(expected) && strcmp(expected[j].name, a->name) != 0)
            j++;
        if (j == OA_ARRAY_SIZE(expected))
            fail_msg("%s is registered but has no documented limit here", a->name);
        if (a->limit != expected[j].limit || a->window_s != expected[j].window_s)
            fail_msg("%s: registered %d per %d s, documented %d per %d s", a->name, a->limit,
                     a->window_s, expected[j].limit, expected[j].window_s);
        assert_non_null(a->handler);
        assert_non_null(a->params);
        assert_ptr_equal(api_action_find(a->name), a);
    }
}

static void test_every_expected_action_is_registered_once(void **state)
{
    assert_int_equal(api_action_count, OA_ARRAY_SIZE(expected));
    for (size_t j = 0; j < OA_ARRAY_SIZE(expected); j++) {
        int n = 0;
        for (size_t i = 0; i < api_action_count; i++)
            n += strcmp(api_actions[i].name, expected[j].name) == 0;
        if (n != 1)
            fail_msg("%s is registered %d times", expected[j].name, n);
    }
}

/* The two whose limits the issue names explicitly. */
static void test_named_limits(void **state)
{
    const struct api_action *a = api_action_find("StartCasterScene");
    assert_non_null(a);
    assert_int_equal(a->limit, 10);
    assert_int_equal(a->window_s, 1);
    a = api_action_find("RealTimeRecordCommand");
    assert_non_null(a);
    assert_int_equal(a->limit, 50);
    assert_int_equal(a->window_s, 1);
    assert_null(api_action_find("DescribeNothing"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_action_has_its_documented_limit),
        cmocka_unit_test(test_every_expected_action_is_registered_once),
        cmocka_unit_test(test_named_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
