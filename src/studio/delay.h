/*
 * delay.h - a delay line for a scene's output (SetCasterConfig Delay): the
 * packets a scene produces are held for delay_ms and then handed to emit(),
 * which pushes them into the scene's hub stream. The undelayed program
 * never exists as a stream, so it cannot be played, listed or recorded;
 * players see exactly what the scene composed, delay_ms late (a take
 * reaches them after the delay), with the scene's timestamps.
 *
 * Everything inside the delay window is held in memory (at 2.5 Mbit/s,
 * about 31 MB per 100 s). A 10 ms timer emits what is due.
 *
 * Ownership: the caller owns the handle; studio_delay_put() takes the
 * packet's reference, emit() receives one. Event-loop thread only.
 */
#ifndef OA_STUDIO_DELAY_H
#define OA_STUDIO_DELAY_H

#include "core/common.h"
#include "core/packet.h"

struct studio_delay;

/* emit(arg, pkt) takes pkt's reference; it runs from the loop's timer. */
typedef void studio_delay_emit(void *arg, struct packet *pkt);

/* A delay line of delay_ms (> 0). */
struct studio_delay *studio_delay_new(int delay_ms, studio_delay_emit *emit, void *arg);
/* Queues pkt (takes its reference) to be emitted delay_ms from now. */
void studio_delay_put(struct studio_delay *d, struct packet *pkt);
/* Drops what is still held and frees d (NULL is fine); emit is not called again. */
void studio_delay_free(struct studio_delay *d);

#endif
