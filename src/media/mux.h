/*
 * mux.h - FLV audio/video packets into MPEG-TS or fragmented MP4, in memory.
 *
 * A thin wrapper over libavformat shared by HLS (MPEG-TS segments on the
 * event-loop thread) and the recorder (MP4 and MPEG-TS files on worker
 * threads). It has no event loop and no state of its own beyond the mux
 * object, so one mux may be used from any thread, one thread at a time.
 * Output goes through a caller-supplied write function; it never seeks.
 *
 * Codecs: H.264 (FLV AVC) video and AAC audio. The FLV sequence headers given
 * to mux_open() become the streams' extradata (avcC, AudioSpecificConfig);
 * libavformat converts to what the container needs (Annex B with SPS/PPS on
 * keyframes and ADTS headers for MPEG-TS, as is for MP4).
 *
 * MP4 is always fragmented (the moov is written with the first fragment, a
 * fragment per video keyframe, or per second of audio-only output,
 * base-data-offset from the moof): the file is playable while it is being
 * written and everything up to the last complete fragment survives a crash,
 * which a classic moov-at-the-end MP4 does not. mux_write() ends the
 * fragment before each video keyframe and pushes its bytes out. Each MP4
 * track's newest packet is held until the next one arrives, so that every
 * sample's duration is the real distance to the next: the MP4 muxer dates
 * each fragment by the durations before it, and a guessed duration for a
 * fragment's last sample would shift every later sample of that track, a
 * little more with each fragment. Only mux_flush() and mux_close() write
 * held packets with an estimate (AAC: exact; video: the previous step).
 * Writing the moov with the
 * first fragment (delay_moov) rather than empty at the start lets it carry
 * edit lists, so a video track that starts after the audio, or whose
 * B-frames delay its first DTS, keeps its real start time.
 *
 * Timestamps: packets carry milliseconds; dts = pkt->ts + ts_offset_ms and
 * pts = dts + the AVC composition time. Publishers' clocks jitter and the
 * muxers refuse a DTS that does not increase within a stream, so a packet
 * whose DTS is not above the previous one of the same stream is moved to
 * previous + 1 ms, and pts is raised to dts if it would fall below it. Large
 * jumps (a new publish) are the caller's business: open a new mux.
 * Timestamps should be >= 0 after the offset; if the first one is negative
 * the muxer shifts the whole output to start at 0.
 *
 * Packets are written with av_write_frame(), not av_interleaved_write_frame():
 * RTMP input is already interleaved in (nearly) timestamp order, both
 * containers only need DTS to increase per stream, and interleaving would
 * hold packets back until every stream has one queued - added latency, and
 * packets leaking past the point where HLS cuts a segment.
 */
#ifndef OA_MEDIA_MUX_H
#define OA_MEDIA_MUX_H

#include "core/common.h"
#include "core/packet.h"

/* Receives the muxer's output, in order. Returns 0, or a negative code that fails the mux. */
typedef int mux_write_fn(void *opaque, const uint8_t *buf, size_t len);

struct mux;

/*
 * Opens a muxer. format is "mpegts" or "mp4". vhdr and ahdr are the FLV
 * sequence-header packets (borrowed; copied, not kept): vhdr an AVC sequence
 * header (payload bytes 5.. are the AVCDecoderConfigurationRecord), ahdr an
 * AAC one (bytes 2.. are the AudioSpecificConfig). Either may be NULL for
 * audio-only or video-only output, not both. Headers may already be written
 * through write() before this returns.
 *
 * Returns a new mux, or NULL with *err set: OA_EINVAL (no header, unknown
 * format), OA_ECODEC (a codec other than AVC/AAC, an unreadable header, or a
 * libavformat failure), or write()'s error.
 */
struct mux *mux_open(const char *format, const struct packet *vhdr, const struct packet *ahdr,
                     mux_write_fn *write, void *opaque, int *err);

/*
 * Muxes one FLV audio or video packet (borrowed). Sequence headers, metadata,
 * packets of a stream the mux was not opened with and AVC end-of-sequence
 * markers are ignored (0). The video keyframe flag comes from pkt->flags.
 * Returns 0, OA_EPROTO for a truncated payload (nothing written), or the
 * first error of the muxer or of write(); after an error the mux only
 * remembers it, and mux_close() reports it.
 */
int mux_write(struct mux *m, const struct packet *pkt, int64_t ts_offset_ms);

/*
 * Pushes out everything the muxer holds: MPEG-TS writes its pending PES
 * packets and starts the next bytes with a PAT and PMT again, so what follows
 * a flush can begin a new file (HLS cuts segments this way); MP4 writes its
 * held packets (with estimated durations) and ends the current fragment.
 * Then all buffered bytes go to write(). An MPEG-TS file writer calls it just
 * before each video keyframe; an MP4 writer only when its input pauses, as
 * mux_write() ends MP4 fragments at keyframes itself. Returns 0 or the first
 * error.
 */
int mux_flush(struct mux *m);

/* True if the mux was opened with a video (audio) stream. */
bool mux_has_video(const struct mux *m);
bool mux_has_audio(const struct mux *m);

/*
 * Writes the trailer, flushes and frees everything (m may be NULL). Returns 0,
 * or the first error seen since mux_open() (the mux is freed either way).
 */
int mux_close(struct mux *m);

#endif
