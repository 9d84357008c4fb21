/*
 * handshake.h - the RTMP handshake, server and client side, as pure functions.
 *
 * Two forms exist. The simple one (RTMP spec 5.2) echoes C1 as S2. The
 * digest ("complex") one used by Flash Player, FMLE, OBS, librtmp and
 * FFmpeg hides an HMAC-SHA256 digest at one of two offset schemes in C1; a
 * server that finds a valid digest must answer with an S1 carrying its own
 * digest (key: "Genuine Adobe Flash Media Server 001") and an S2 whose last
 * 32 bytes are HMAC-SHA256 over S2's first 1504 bytes, keyed by
 * HMAC-SHA256(full 68-byte FMS key, client digest). Clients that validate the
 * server (FFmpeg does when S1's version bytes are non-zero) reject anything else.
 */
#ifndef OA_RTMP_HANDSHAKE_H
#define OA_RTMP_HANDSHAKE_H

#include "core/common.h"

#define RTMP_HANDSHAKE_SIZE 1536

/*
 * Server side. c0c1 holds C0 (1 byte, must be 3) followed by C1 (1536 bytes).
 * Writes S0 S1 S2 (1 + 1536 + 1536 bytes) to out. Sets *digest to whether the
 * client used the digest scheme. Returns 0, or OA_EPROTO for a C0 other than
 * 3 (6 = encrypted RTMPE is refused too). C2 needs no checking: clients vary
 * too much, and a wrong C2 is harmless to the server.
 */
int rtmp_handshake_server(const uint8_t c0c1[1 + RTMP_HANDSHAKE_SIZE],
                          uint8_t out[1 + 2 * RTMP_HANDSHAKE_SIZE], bool *digest);

/*
 * Client side (the load tool). Writes C0 C1 (1 + 1536 bytes); with digest, C1
 * carries a Flash Player digest. Then rtmp_handshake_client_finish() takes
 * S0 S1 S2 and writes C2 (1536 bytes); returns 0 or OA_EPROTO. An S1 with
 * zero version bytes is a simple server's: C2 echoes S1. Any other S1 must
 * carry a valid Media Server digest (either scheme), answered as in the
 * digest form; an S1 whose digest does not validate is OA_EPROTO.
 */
void rtmp_handshake_client_start(uint8_t out[1 + RTMP_HANDSHAKE_SIZE], bool digest);
int rtmp_handshake_client_finish(const uint8_t s0s1s2[1 + 2 * RTMP_HANDSHAKE_SIZE],
                                 uint8_t c2[RTMP_HANDSHAKE_SIZE]);

/*
 * Optional for the client: checks S2 against the C0 C1 it sent. For a digest
 * C1, S2 must carry the server's signature over our digest; otherwise S2 must
 * echo C1's random bytes. client_finish() cannot do this itself, as it does
 * not see C1. Returns 0 or OA_EPROTO.
 */
int rtmp_handshake_client_check_s2(const uint8_t c0c1[1 + RTMP_HANDSHAKE_SIZE],
                                   const uint8_t s2[RTMP_HANDSHAKE_SIZE]);

#endif
