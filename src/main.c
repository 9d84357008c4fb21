#include "core/log.h"
int main(void)
{
    oa_log(OA_LOG_INFO, "onair");
    return 0;
}
