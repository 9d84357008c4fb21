/* fault.c - the record_fault_abort test hook (see fault.h). */
#include "fault.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>

static struct {
    char point[32];
    long at;
    atomic_long hits;
} F;

void rec_fault_init(void)
{
    F.point[0] = '\0';
    F.at = 1;
    atomic_init(&F.hits, 0);
    const char *s = oa_cfg.record_fault_abort, *colon = strchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    if (!n || n >= sizeof(F.point))
        return;
    memcpy(F.point, s, n);
    F.point[n] = '\0';
    long long at = 1;
    if (colon && oa_parse_int(colon + 1, 1, 1000000, &at) != 0)
        oa_log(OA_LOG_WARN, "record_fault_abort: bad count in \"%s\"; using 1", s);
    F.at = (long)at;
    oa_log(OA_LOG_WARN, "record: fault injection armed: SIGKILL at %s #%ld", F.point, F.at);
}

void rec_fault(const char *point)
{
    if (!F.point[0] || strcmp(point, F.point) != 0)
        return;
    if (atomic_fetch_add(&F.hits, 1) + 1 != F.at)
        return;
    oa_log(OA_LOG_WARN, "record: fault injection: killing the process at %s", point);
    raise(SIGKILL);
}
