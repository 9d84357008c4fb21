/*
 * delay.h - a delayed copy of a live stream, for a caster's output delay
 * (SetCasterConfig Delay): every packet of domain/app/src is published again
 * as domain/app/dst, delay_ms after it arrived, with the same timestamps.
 * Players of dst see exactly what src carried, late; a take on src reaches
 * dst's players after the delay.
 *
 * Everything inside the delay window is held in memory (at 2.5 Mbit/s,
 * about 31 MB per 100 s). A sink subscribes to src and keeps a copy of each
 * packet (the hub may rewrite a packet's timestamp in place when it pushes
 * it, and src's own players still hold the original); a 10 ms timer pushes
 * what is due into dst.
 *
 * Ownership: the caller owns the handle. Event-loop thread only.
 */
#ifndef OA_STUDIO_DELAY_H
#define OA_STUDIO_DELAY_H

#include "core/common.h"

struct studio_delay;

/*
 * Publishes dst and starts copying src into it (src need not be live yet).
 * NULL with *err = OA_EBUSY when dst already has a publisher.
 */
struct studio_delay *studio_delay_start(const char *domain, const char *app, const char *src,
                                        const char *dst, int delay_ms, int *err);
/* False once dst's publish was ended from outside (domain stopped, shutdown). */
bool studio_delay_running(const struct studio_delay *d);
/* Unpublishes dst, drops what was still held and frees d (NULL is fine). */
void studio_delay_stop(struct studio_delay *d);

#endif
