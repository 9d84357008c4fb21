/*
 * err.h - the one error convention.
 *
 * Functions return 0 on success and a negative code on failure. A code is
 * either -errno (so libc, libevent and FFmpeg's AVERROR codes on POSIX pass
 * through unchanged) or one of ours below, which sit far outside errno's range.
 */
#ifndef OA_CORE_ERR_H
#define OA_CORE_ERR_H

#define OA_ERRNO_MAP(X)                                                                            \
    X(EPROTO, -10001, "protocol violation")                                                        \
    X(EAGAIN, -10002, "need more data")                                                            \
    X(EOF, -10003, "end of stream")                                                                \
    X(ETOOBIG, -10004, "size limit exceeded")                                                      \
    X(EAUTH, -10005, "not authorized")                                                             \
    X(ENOTFOUND, -10006, "not found")                                                              \
    X(EEXIST, -10007, "already exists")                                                            \
    X(EBUSY, -10008, "resource busy")                                                              \
    X(EINVAL, -10009, "invalid argument")                                                          \
    X(EDB, -10010, "database error")                                                               \
    X(ECODEC, -10011, "codec error")

enum {
#define OA_ERR_ENUM(name, val, msg) OA_##name = (val),
    OA_ERRNO_MAP(OA_ERR_ENUM)
#undef OA_ERR_ENUM
};

/* Returns a static description of any code this project returns. */
const char *oa_strerror(int code);

#endif
