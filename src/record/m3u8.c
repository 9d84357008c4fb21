/* m3u8.c - playlist text for recordings (see m3u8.h). */
#include "m3u8.h"
#include "core/err.h"
#include "record/storage.h"
#include "record/tmpl.h"

#include <ctype.h>
#include <math.h>

static int append_uri(struct oa_buf *out, const char *ref)
{
    static const char hx[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)ref; *p; p++) {
        int r;
        if (isalnum(*p) || strchr("-_.~/", *p)) {
            r = oa_buf_append_u8(out, *p);
        } else {
            char e[3] = {'%', hx[*p >> 4], hx[*p & 15]};
            r = oa_buf_append(out, e, 3);
        }
        if (r)
            return r;
    }
    return oa_buf_append_u8(out, '\n');
}

int rec_m3u8_build(const char *playlist_object, const struct rec_m3u8_entry *e, size_t n,
                   bool ended, struct oa_buf *out)
{
    /* Every EXTINF rounded to the nearest integer must not exceed the target (RFC 8216). */
    double maxd = 1;
    for (size_t i = 0; i < n; i++)
        maxd = OA_MAX(maxd, e[i].duration);
    int r = oa_buf_printf(out,
                          "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n"
                          "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:%s\n",
                          (int)lround(maxd), ended ? "VOD" : "EVENT");
    for (size_t i = 0; i < n && !r; i++) {
        char ref[REC_OBJECT_MAX * 2];
        if (storage_ref(playlist_object, e[i].object, ref, sizeof(ref)) != 0)
            return OA_EINVAL;
        if (e[i].discontinuity)
            r = oa_buf_append_str(out, "#EXT-X-DISCONTINUITY\n");
        if (!r)
            r = oa_buf_printf(out, "#EXTINF:%.3f,\n", e[i].duration);
        if (!r)
            r = append_uri(out, ref);
    }
    if (!r && ended)
        r = oa_buf_append_str(out, "#EXT-X-ENDLIST\n");
    return r;
}
