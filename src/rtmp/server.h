/*
 * server.h - the RTMP listener and its sessions.
 *
 * A session is one TCP connection. It reads through a bufferevent (input
 * only), runs the handshake, reassembles chunks, answers commands, and
 * becomes a publisher (feeding the hub) or a player (a hub sink with a
 * bounded output queue written with one writev per loop turn). A session
 * that misbehaves is closed with one log line; nothing else is affected.
 * Each session takes one of max_connections (core/loop.h).
 */
#ifndef OA_RTMP_SERVER_H
#define OA_RTMP_SERVER_H

#include "core/common.h"

/* Listens on addr ("host:port"); 0 or a negative code. */
int rtmp_server_start(const char *addr);
/*
 * Shutdown, first step: stops accepting; publishers get
 * NetStream.Unpublish.Success and leave the hub, players NetStream.Play.Stop;
 * every session closes once its queue is written (or after
 * shutdown_drain_ms). The loop must run for that.
 */
void rtmp_server_quiesce(void);
/* Shutdown, last step (quiesces first if need be): closes every session left, frees. */
void rtmp_server_stop(void);
/* Number of open sessions. */
size_t rtmp_server_sessions(void);

#endif
