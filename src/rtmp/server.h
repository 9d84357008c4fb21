/*
 * server.h - the RTMP listener and its sessions.
 *
 * A session is one TCP connection. It reads through a bufferevent (input
 * only), runs the handshake, reassembles chunks, answers commands, and
 * becomes a publisher (feeding the hub) or a player (a hub sink with a
 * bounded output queue written with one writev per loop turn). A session
 * that misbehaves is closed with one log line; nothing else is affected.
 */
#ifndef OA_RTMP_SERVER_H
#define OA_RTMP_SERVER_H

#include "core/common.h"

/* Listens on addr ("host:port"); 0 or a negative code. */
int rtmp_server_start(const char *addr);
/* Stops accepting, closes every session cleanly (onStatus, flush), frees. */
void rtmp_server_stop(void);
/* Number of open sessions. */
size_t rtmp_server_sessions(void);

#endif
