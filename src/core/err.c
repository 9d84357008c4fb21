/* err.c - names for the codes of err.h; errno values go to strerror(). */
#include "err.h"
#include "common.h"

#include <string.h>

const char *oa_strerror(int code)
{
    switch (code) {
#define OA_ERR_CASE(name, val, msg)                                                                \
    case val:                                                                                      \
        return msg;
        OA_ERRNO_MAP(OA_ERR_CASE)
#undef OA_ERR_CASE
    case 0:
        return "success";
    default:
        break;
    }
    if (code < 0 && code > -4096)
        return strerror(-code);
    return "unknown error";
}
