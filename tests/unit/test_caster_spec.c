/*
 * Unit tests for the production studio's pure model pieces
 * (studio/caster_spec.h): CasterTemplate -> canvas, TranscodeConfig parsing
 * and its storage form, layout and scene-audio parameters (as the request's
 * parameter tree holds them) with every validation, output URL building
 * (hosts, ports, vhost, auth_key against the spec's vector), and the checks
 * on ids, locations and input URLs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/err.h"
#include "core/util.h"
#include "studio/caster_spec.h"

static void test_templates(void **state)
{
    struct studio_canvas c;
    static const struct {
        const char *name;
        int w, h, kbps;
        const char *quality;
    } want[] = {
        {"lp_ld", 640, 360, 800, "lld"},     {"lp_sd", 854, 480, 1200, "lsd"},
        {"lp_hd", 1280, 720, 2500, "lhd"},   {"lp_ud", 1920, 1080, 4500, "lud"},
        {"lp_ld_v", 360, 640, 800, "lld"},   {"lp_sd_v", 480, 854, 1200, "lsd"},
        {"LP_HD_V", 720, 1280, 2500, "lhd"}, {"lp_ud_v", 1080, 1920, 4500, "lud"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        assert_int_equal(caster_template_canvas(want[i].name, &c), 0);
        assert_int_equal(c.width, want[i].w);
        assert_int_equal(c.height, want[i].h);
        assert_int_equal(c.video_kbps, want[i].kbps);
        assert_int_equal(c.fps, 30);
        assert_int_equal(c.sample_rate, 44100);
        assert_int_equal(c.channels, 2);
        assert_int_equal(c.audio_kbps, 128);
        /* Even sizes, as the engine requires. */
        assert_int_equal(c.width % 2, 0);
        assert_int_equal(c.height % 2, 0);
        assert_string_equal(caster_template_quality(want[i].name), want[i].quality);
    }
    static const char *const bad[] = {"", "lp", "lp_ff", "lp_ld_h", "lp_ld_", "lp_ldv", "x_v"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(caster_template_canvas(bad[i], &c), OA_EINVAL);
    assert_int_equal(caster_template_canvas(NULL, &c), OA_EINVAL);
    assert_string_equal(caster_template_quality("lp_8k"), "");
}

static int transcode(const char *text, struct caster_transcode *t, struct caster_perr *e)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(j);
    int r = caster_transcode_parse(j, t, e);
    json_decref(j);
    return r;
}

static void test_transcode(void **state)
{
    struct caster_transcode t;
    struct caster_perr e;
    struct studio_canvas c;
    char tpl[16];

    assert_int_equal(
        transcode("{\"casterTemplate\":\"LP_HD\",\"LiveTemplate\":[\"lld\",\"LSD\"]}", &t, &e), 0);
    assert_string_equal(t.caster_template, "lp_hd");
    assert_int_equal(t.n_live, 2);
    assert_string_equal(t.live[0], "lld");
    assert_string_equal(t.live[1], "lsd");
    assert_int_equal(caster_canvas("lp_sd", &t, &c, tpl), 0);
    assert_string_equal(tpl, "lp_hd");
    assert_int_equal(c.width, 1280);

    /* Keys are case-insensitive; custom values override the template; strings accepted. */
    assert_int_equal(
        transcode("{\"CasterTemplate\":\"lp_ld_v\",\"CustomParams\":{\"Video\":{\"width\":320,"
                  "\"height\":\"240\",\"fps\":15,\"bitrate\":300}}}",
                  &t, &e),
        0);
    assert_int_equal(caster_canvas(NULL, &t, &c, tpl), 0);
    assert_string_equal(tpl, "lp_ld_v");
    assert_int_equal(c.width, 320);
    assert_int_equal(c.height, 240);
    assert_int_equal(c.fps, 15);
    assert_int_equal(c.video_kbps, 300);

    /* No template anywhere: the default; the CreateCaster one when TranscodeConfig has none. */
    assert_int_equal(transcode("{}", &t, &e), 0);
    assert_int_equal(caster_canvas("", &t, &c, tpl), 0);
    assert_string_equal(tpl, CASTER_DEFAULT_TEMPLATE);
    assert_int_equal(caster_canvas("lp_sd_v", &t, &c, tpl), 0);
    assert_string_equal(tpl, "lp_sd_v");
    assert_int_equal(c.width, 480);

    /* Storage round trip. */
    assert_int_equal(
        transcode("{\"casterTemplate\":\"lp_ud\",\"LiveTemplate\":[\"lhd\"],\"customParams\":{"
                  "\"video\":{\"fps\":25}}}",
                  &t, &e),
        0);
    json_t *j = caster_transcode_to_json(&t);
    struct caster_transcode back;
    caster_transcode_from_json(j, &back);
    json_decref(j);
    assert_memory_equal(&t, &back, sizeof(t));
    caster_transcode_from_json(NULL, &back);
    assert_string_equal(back.caster_template, "");
    assert_int_equal(back.n_live, 0);

    static const char *const bad[] = {
        "[]",
        "\"lp_ld\"",
        "{\"casterTemplate\":\"lp_8k\"}",
        "{\"casterTemplate\":5}",
        "{\"LiveTemplate\":[\"lld\",\"xxx\"]}",
        "{\"LiveTemplate\":\"lld\"}",
        /* nine templates: one too many */
        "{\"LiveTemplate\":[\"lld\",\"lsd\",\"lhd\",\"lud\",\"lld\",\"lsd\",\"lhd\",\"lud\",1]}",
        "{\"customParams\":{\"video\":{\"width\":321}}}",
        "{\"customParams\":{\"video\":{\"width\":8}}}",
        "{\"customParams\":{\"video\":{\"height\":5000}}}",
        "{\"customParams\":{\"video\":{\"fps\":0}}}",
        "{\"customParams\":{\"video\":{\"fps\":29.97}}}",
        "{\"customParams\":{\"video\":{\"bitrate\":\"fast\"}}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&e, 0, sizeof(e));
        assert_int_equal(transcode(bad[i], &t, &e), OA_EINVAL);
        assert_string_equal(e.param, "TranscodeConfig");
        assert_true(e.msg[0] != '\0');
    }
}

static int layout(const char *tree, struct caster_layout *l, struct caster_perr *e)
{
    json_t *j = json_loads(tree, 0, NULL);
    assert_non_null(j);
    memset(e, 0, sizeof(*e));
    int r = caster_layout_parse(j, l, e);
    json_decref(j);
    return r;
}

static void test_layout_parse(void **state)
{
    struct caster_layout l;
    struct caster_perr e;
    assert_int_equal(
        layout("{\"BlendList\":[\"RV01\",\"rv02\"],"
               "\"VideoLayer\":[{\"HeightNormalized\":\"1\",\"WidthNormalized\":\"1\"},"
               "{\"HeightNormalized\":\"0.3\",\"WidthNormalized\":\"0.25\",\"PositionRefer\":"
               "\"BOTTOMright\",\"PositionNormalized\":[\"0.1\",\"-0.2\"],\"FillMode\":\"fit\","
               "\"FixedDelayDuration\":\"120\"}],"
               "\"MixList\":[\"RV02\"],\"AudioLayer\":[{\"VolumeRate\":\"2.5\",\"ValidChannel\":"
               "\"leftChannel\",\"FixedDelayDuration\":\"40\"}]}",
               &l, &e),
        0);
    assert_int_equal(l.l.n_video, 2);
    assert_string_equal(l.l.video[0].location_id, "RV01");
    assert_string_equal(l.l.video[1].location_id, "RV02");
    /* Defaults: topLeft, none, [0, 0]. */
    assert_int_equal(l.l.video[0].refer, STUDIO_REFER_TOP_LEFT);
    assert_int_equal(l.l.video[0].fill, STUDIO_FILL_NONE);
    assert_true(l.l.video[0].pos_x == 0 && l.l.video[0].pos_y == 0);
    assert_true(l.l.video[1].height_norm == 0.3 && l.l.video[1].width_norm == 0.25);
    assert_true(l.l.video[1].pos_x == 0.1 && l.l.video[1].pos_y == -0.2);
    assert_int_equal(l.l.video[1].refer, STUDIO_REFER_BOTTOM_RIGHT);
    assert_int_equal(l.l.video[1].fill, STUDIO_FILL_FIT);
    assert_int_equal(l.video_delay[1], 120);
    assert_int_equal(l.l.n_audio, 1);
    assert_string_equal(l.l.audio[0].location_id, "RV02");
    assert_true(l.l.audio[0].volume_rate == 2.5);
    assert_int_equal(l.l.audio[0].channel, STUDIO_CHANNEL_LEFT);
    assert_int_equal(l.audio_delay[0], 40);

    /* Storage round trip. */
    json_t *j = caster_layout_to_json(&l);
    struct caster_layout back;
    assert_int_equal(caster_layout_from_json(j, &back), 0);
    json_decref(j);
    assert_memory_equal(&l, &back, sizeof(l));

    /* Audio layer defaults: volume 1, all channels; PositionNormalized with x only. */
    assert_int_equal(layout("{\"BlendList\":[\"RV03\"],\"VideoLayer\":[{\"PositionNormalized\":[\""
                            "0.5\"]}],\"MixList\":[\"RV03\"],\"AudioLayer\":[{}]}",
                            &l, &e),
                     0);
    assert_true(l.l.video[0].pos_x == 0.5 && l.l.video[0].pos_y == 0);
    assert_true(l.l.audio[0].volume_rate == 1.0);
    assert_int_equal(l.l.audio[0].channel, STUDIO_CHANNEL_ALL);
    /* Empty layout (the action table makes the lists required, not this parser). */
    assert_int_equal(layout("{}", &l, &e), 0);
    assert_int_equal(l.l.n_video, 0);
    assert_int_equal(l.l.n_audio, 0);

    static const struct {
        const char *tree, *param;
    } bad[] = {
        {"{\"BlendList\":[\"RV01\"],\"VideoLayer\":[]}", "BlendList"},
        {"{\"BlendList\":[\"RV01\",\"RV02\"],\"VideoLayer\":[{}]}", "BlendList"},
        {"{\"BlendList\":[\"RV00\"],\"VideoLayer\":[{}]}", "BlendList"},
        {"{\"BlendList\":[\"RC01\"],\"VideoLayer\":[{}]}", "BlendList"},
        {"{\"BlendList\":[null,\"RV01\"],\"VideoLayer\":[{},{}]}", "BlendList"},
        {"{\"BlendList\":\"RV01\",\"VideoLayer\":[{}]}", "BlendList"},
        {"{\"BlendList\":[\"RV01\",\"RV02\"],\"VideoLayer\":[{},null]}", "VideoLayer"},
        {"{\"BlendList\":[\"RV01\"],\"VideoLayer\":[{\"HeightNormalized\":\"1.01\"}]}",
         "VideoLayer"},
        {"{\"BlendList\":[\"RV01\"],\"VideoLayer\":[{\"WidthNormalized\":\"-0.1\"}]}",
         "VideoLayer"},
        {"{\"BlendList\":[\"RV01\"],\"VideoLayer\":[{\"WidthNormalized\":\"abc\"}]}", "VideoLayer"},
        {"{\"BlendList\":[\"RV01\"],\"VideoLayer\":[{\"PositionNormalized\":[\"0\",\"1.5\"]}]}",
         "VideoLayer"},
        {"{\"BlendList\":[\"RV01\"],\"VideoLayer\":[{\"PositionNormalized\":[\"0\",\"0\",\"0\"]}"
         "]}",
         "VideoLayer"},
        {"{\"BlendList\":[\"RV01\"],\"VideoLayer\":[{\"PositionNormalized\":[null,\"0.2\"]}]}",
         "VideoLayer"},
        {"{\"BlendList\":[\"RV01\"],\"VideoLayer\":[{\"PositionRefer\":\"middle\"}]}",
         "VideoLayer"},
        {"{\"BlendList\":[\"RV01\"],\"VideoLayer\":[{\"FillMode\":\"stretch\"}]}", "VideoLayer"},
        {"{\"BlendList\":[\"RV01\"],\"VideoLayer\":[{\"FillMode\":\"fit\",\"HeightNormalized\":"
         "\"0.5\"}]}",
         "VideoLayer"},
        {"{\"BlendList\":[\"RV01\"],\"VideoLayer\":[{\"FixedDelayDuration\":\"5001\"}]}",
         "VideoLayer"},
        {"{\"MixList\":[\"RV01\"],\"AudioLayer\":[{\"VolumeRate\":\"10.5\"}]}", "AudioLayer"},
        {"{\"MixList\":[\"RV01\"],\"AudioLayer\":[{\"ValidChannel\":\"both\"}]}", "AudioLayer"},
        {"{\"MixList\":[\"RV01\"],\"AudioLayer\":[{\"FixedDelayDuration\":\"-1\"}]}", "AudioLayer"},
        {"{\"MixList\":[\"RV01\",\"RV02\"],\"AudioLayer\":[{}]}", "MixList"},
        {"{\"MixList\":[\"RV01\"]}", "MixList"},
        {"{\"AudioLayer\":[{}]}", "MixList"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (layout(bad[i].tree, &l, &e) != OA_EINVAL || strcmp(e.param, bad[i].param) != 0)
            print_error("case %zu: %s -> param \"%s\" (%s)\n", i, bad[i].tree, e.param, e.msg);
        assert_int_equal(layout(bad[i].tree, &l, &e), OA_EINVAL);
        assert_string_equal(e.param, bad[i].param);
        assert_true(e.msg[0] != '\0');
    }

    /* More layers than the engine takes. */
    char big[8192];
    size_t n = 0;
    n += (size_t)snprintf(big + n, sizeof(big) - n, "{\"BlendList\":[");
    for (int i = 0; i <= STUDIO_MAX_LAYERS; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"RV01\"", i ? "," : "");
    n += (size_t)snprintf(big + n, sizeof(big) - n, "],\"VideoLayer\":[");
    for (int i = 0; i <= STUDIO_MAX_LAYERS; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "%s{}", i ? "," : "");
    snprintf(big + n, sizeof(big) - n, "]}");
    assert_int_equal(layout(big, &l, &e), OA_EINVAL);
    assert_string_equal(e.param, "BlendList");
}

static void test_audio_parse(void **state)
{
    struct caster_audio a;
    struct caster_perr e;
    bool given;
    json_t *j = json_loads("{\"MixList\":[\"RV02\",\"RV05\"]}", 0, NULL);
    a.follow = false;
    assert_int_equal(caster_audio_parse(j, &a, &given, &e), 0);
    json_decref(j);
    assert_true(given);
    assert_false(a.follow); /* left alone */
    assert_int_equal(a.n, 2);
    assert_string_equal(a.layers[1].location_id, "RV05");
    assert_true(a.layers[1].volume_rate == 1.0);

    j = json_loads("{\"FollowEnable\":\"1\"}", 0, NULL);
    assert_int_equal(caster_audio_parse(j, &a, &given, &e), 0);
    json_decref(j);
    assert_false(given);
    assert_int_equal(a.n, 0);

    /* Storage round trip; the engine form. */
    a.follow = true;
    a.n = 1;
    oa_strlcpy(a.layers[0].location_id, "RV07", sizeof(a.layers[0].location_id));
    a.layers[0].volume_rate = 0.25;
    a.layers[0].channel = STUDIO_CHANNEL_RIGHT;
    a.delay[0] = 9;
    j = caster_audio_to_json(&a);
    struct caster_audio back;
    assert_int_equal(caster_audio_from_json(j, &back), 0);
    json_decref(j);
    assert_true(back.follow);
    assert_int_equal(back.n, 1);
    assert_string_equal(back.layers[0].location_id, "RV07");
    assert_true(back.layers[0].volume_rate == 0.25);
    assert_int_equal(back.layers[0].channel, STUDIO_CHANNEL_RIGHT);
    assert_int_equal(back.delay[0], 9);
    struct studio_audio eng;
    caster_audio_engine(&back, &eng);
    assert_true(eng.follow_video);
    assert_int_equal(eng.n, 1);
    assert_string_equal(eng.layers[0].location_id, "RV07");
    /* Missing or broken storage: audio follows video. */
    assert_int_equal(caster_audio_from_json(NULL, &back), OA_EINVAL);
    assert_true(back.follow);
}

static void test_endpoint(void **state)
{
    struct caster_endpoint ep;
    /* The API request's Host: its port is the HTTP port; RTMP from rtmp_listen. */
    caster_endpoint_make("", "10.0.0.5:8080", "0.0.0.0:1935", "0.0.0.0:8080", &ep);
    assert_string_equal(ep.host, "10.0.0.5");
    assert_string_equal(ep.http, "10.0.0.5:8080");
    assert_string_equal(ep.rtmp, "10.0.0.5");
    caster_endpoint_make(NULL, "example.com", "0.0.0.0:19350", "0.0.0.0:8080", &ep);
    assert_string_equal(ep.http, "example.com");
    assert_string_equal(ep.rtmp, "example.com:19350");
    caster_endpoint_make("", "[::1]:8080", ":1935", ":8080", &ep);
    assert_string_equal(ep.host, "[::1]");
    assert_string_equal(ep.http, "[::1]:8080");
    assert_string_equal(ep.rtmp, "[::1]");
    /* public_host wins; without a port it takes http_listen's. */
    caster_endpoint_make("live.example.com", "10.0.0.5:8080", "0.0.0.0:1936", "0.0.0.0:8081", &ep);
    assert_string_equal(ep.http, "live.example.com:8081");
    assert_string_equal(ep.rtmp, "live.example.com:1936");
    caster_endpoint_make("live.example.com:80", "x", "1935", "8080", &ep);
    assert_string_equal(ep.http, "live.example.com");
    assert_string_equal(ep.rtmp, "live.example.com");
    caster_endpoint_make("", "", "1935", "80", &ep);
    assert_string_equal(ep.http, "127.0.0.1");
}

static void test_urls(void **state)
{
    struct caster_endpoint ep;
    char url[1024];
    caster_endpoint_make("", "127.0.0.1:8080", "127.0.0.1:1935", "127.0.0.1:8080", &ep);
    assert_int_equal(caster_url(&ep, CASTER_URL_FLV, "live.example.com", "caster", "0123abcd", NULL,
                                0, url, sizeof(url)),
                     0);
    assert_string_equal(url, "http://127.0.0.1:8080/caster/0123abcd.flv?vhost=live.example.com");
    assert_int_equal(caster_url(&ep, CASTER_URL_RTMP, "live.example.com", "caster", "0123abcd", "",
                                0, url, sizeof(url)),
                     0);
    assert_string_equal(url, "rtmp://127.0.0.1/caster/0123abcd?vhost=live.example.com");
    assert_int_equal(caster_url(&ep, CASTER_URL_HLS, "live.example.com", "caster", "0123abcd", NULL,
                                0, url, sizeof(url)),
                     0);
    assert_string_equal(url, "http://127.0.0.1:8080/caster/0123abcd.m3u8?vhost=live.example.com");

    /* The host is the domain: no vhost. Signed: the spec's live-shaped vectors (5.7). */
    caster_endpoint_make("", "liveapp.example.com", "1935", "80", &ep);
    assert_int_equal(caster_url(&ep, CASTER_URL_FLV, "LiveApp.example.com", "liveApp", "liveStream",
                                "aliyuncdnexp1234", 1444435200, url, sizeof(url)),
                     0);
    assert_string_equal(url, "http://liveapp.example.com/liveApp/liveStream.flv?auth_key="
                             "1444435200-0-0-9ccea790019f26a830665ecc6f7e6626");
    assert_int_equal(caster_url(&ep, CASTER_URL_RTMP, "liveapp.example.com", "liveApp",
                                "liveStream", "aliyuncdnexp1234", 1444435200, url, sizeof(url)),
                     0);
    assert_string_equal(url, "rtmp://liveapp.example.com/liveApp/liveStream?auth_key="
                             "1444435200-0-0-1b9fc54c75e9dc6929154b6df9ea93c6");
    assert_int_equal(caster_url(&ep, CASTER_URL_HLS, "liveapp.example.com", "liveApp", "liveStream",
                                "aliyuncdnexp1234", 1444435200, url, sizeof(url)),
                     0);
    assert_string_equal(url, "http://liveapp.example.com/liveApp/liveStream.m3u8?auth_key="
                             "1444435200-0-0-42396887c46e19fdc6fd002173d905c6");
    /* vhost and auth_key together. */
    caster_endpoint_make("", "10.1.1.1:8080", "1935", "8080", &ep);
    assert_int_equal(caster_url(&ep, CASTER_URL_FLV, "d.example.com", "liveApp", "liveStream",
                                "aliyuncdnexp1234", 1444435200, url, sizeof(url)),
                     0);
    assert_string_equal(url, "http://10.1.1.1:8080/liveApp/liveStream.flv?vhost=d.example.com&"
                             "auth_key=1444435200-0-0-9ccea790019f26a830665ecc6f7e6626");
    /* Too small a buffer is an error, not a cut URL. */
    assert_int_equal(caster_url(&ep, CASTER_URL_FLV, "d.example.com", "a", "b", NULL, 0, url, 20),
                     OA_ETOOBIG);
}

static void test_ids_and_urls(void **state)
{
    char loc[8];
    assert_true(caster_id_ok("a2b8e671-2fe5-4642-a2ec-bf93880e1234"));
    assert_true(caster_id_ok("LIVEPRODUCER_POST-cn-0pp1czt1234"));
    assert_false(caster_id_ok(""));
    assert_false(caster_id_ok(NULL));
    assert_false(caster_id_ok("a b"));
    assert_false(caster_id_ok("../x"));
    char long_id[66];
    memset(long_id, 'a', 65);
    long_id[65] = '\0';
    assert_false(caster_id_ok(long_id));
    long_id[64] = '\0';
    assert_true(caster_id_ok(long_id));

    assert_true(caster_location_ok("rv07", loc));
    assert_string_equal(loc, "RV07");
    assert_true(caster_location_ok("RV99", loc));
    assert_false(caster_location_ok("RV00", loc));
    assert_false(caster_location_ok("RV100", loc));
    assert_false(caster_location_ok("RC01", loc));
    assert_false(caster_location_ok("RV1", loc));

    assert_true(caster_live_url_ok("rtmp://host/app/stream"));
    assert_true(caster_live_url_ok("http://host:8080/app/stream.flv?vhost=x"));
    assert_true(caster_live_url_ok("HTTPS://host/app/stream.m3u8"));
    assert_false(caster_live_url_ok("rtmp:///app/stream"));
    assert_false(caster_live_url_ok("rtmp://"));
    assert_false(caster_live_url_ok("udp://host/x"));
    assert_false(caster_live_url_ok("file:///etc/passwd"));
    assert_false(caster_live_url_ok("rtmp://host/app stream"));
    assert_false(caster_live_url_ok("/local/file.flv"));
    assert_true(caster_media_url_ok("http://host/clip.mp4"));
    assert_true(caster_media_url_ok("oss://bucket/dir/clip.mp4"));
    assert_false(caster_media_url_ok("rtmp://host/app/stream"));
    assert_false(caster_media_url_ok("/etc/passwd"));
    assert_false(caster_media_url_ok("file:/etc/passwd"));
}

static void test_storage_object(void **state)
{
    char bucket[64], object[1024];
    oa_config_defaults(&oa_cfg);
    oa_strlcpy(oa_cfg.http_listen, "0.0.0.0:8080", sizeof(oa_cfg.http_listen));
    assert_true(caster_storage_object("oss://rec-bucket/a/b%20c.mp4", bucket, object));
    assert_string_equal(bucket, "rec-bucket");
    assert_string_equal(object, "a/b c.mp4");
    assert_true(caster_storage_object("http://127.0.0.1:8080/oss/b1/x/y.flv?t=1", bucket, object));
    assert_string_equal(bucket, "b1");
    assert_string_equal(object, "x/y.flv");
    assert_true(caster_storage_object("http://localhost:8080/oss/b1/z.mp4", bucket, object));
    /* Another port or host is another server. */
    assert_false(caster_storage_object("http://127.0.0.1:8081/oss/b1/x.mp4", bucket, object));
    assert_false(caster_storage_object("http://example.com:8080/oss/b1/x.mp4", bucket, object));
    assert_false(caster_storage_object("http://127.0.0.1:8080/live/x.flv", bucket, object));
    oa_strlcpy(oa_cfg.public_host, "media.example.com:8080", sizeof(oa_cfg.public_host));
    assert_true(
        caster_storage_object("http://media.example.com:8080/oss/b1/x.mp4", bucket, object));
    oa_cfg.public_host[0] = '\0';
    /* Malformed objects. */
    assert_false(caster_storage_object("oss://bucket", bucket, object));
    assert_false(caster_storage_object("oss://bucket/", bucket, object));
    assert_false(caster_storage_object("oss:///object", bucket, object));
    assert_false(caster_storage_object("oss://bucket/a%2", bucket, object));
    assert_false(caster_storage_object("oss://bucket/a%00b", bucket, object));
    assert_false(caster_storage_object("https://127.0.0.1:8080/oss/b/x", bucket, object));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_templates),    cmocka_unit_test(test_transcode),
        cmocka_unit_test(test_layout_parse), cmocka_unit_test(test_audio_parse),
        cmocka_unit_test(test_endpoint),     cmocka_unit_test(test_urls),
        cmocka_unit_test(test_ids_and_urls), cmocka_unit_test(test_storage_object),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
