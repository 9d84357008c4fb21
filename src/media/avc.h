/*
 * avc.h - just enough of H.264 and AAC bitstream syntax for a live server:
 * reading the sequence headers that arrive in FLV (AVCDecoderConfigurationRecord,
 * AudioSpecificConfig) to learn picture size and audio format, and converting
 * between Annex B (start codes, what encoders emit) and AVCC (length
 * prefixes, what FLV/RTMP/MP4 carry). Pure functions over byte ranges.
 */
#ifndef OA_MEDIA_AVC_H
#define OA_MEDIA_AVC_H

#include "core/buf.h"
#include "core/common.h"

struct avc_config {
    int profile, level;
    int nal_length_size; /* 1, 2 or 4 */
    int width, height;   /* from the first SPS, after cropping; 0 if unknown */
    const uint8_t *sps;  /* borrowed from the record */
    size_t sps_len;
    const uint8_t *pps;
    size_t pps_len;
};

/* Parses an AVCDecoderConfigurationRecord; 0 or OA_EPROTO. */
int avc_parse_config(const uint8_t *p, size_t len, struct avc_config *out);
/* Parses an SPS NAL unit (with its header byte) for the picture size; 0 or OA_EPROTO. */
int avc_parse_sps(const uint8_t *p, size_t len, int *width, int *height);

struct aac_config {
    int object_type;
    int sample_rate;
    int channels;
};

/* Parses an AudioSpecificConfig; 0 or OA_EPROTO. */
int aac_parse_asc(const uint8_t *p, size_t len, struct aac_config *out);

/*
 * Builds an AVCDecoderConfigurationRecord from Annex B data holding SPS and
 * PPS NAL units (an encoder's extradata). 0 or OA_EPROTO.
 */
int avc_config_from_annexb(const uint8_t *p, size_t len, struct oa_buf *out);
/*
 * Converts Annex B NAL units to 4-byte length-prefixed ones, appending to out.
 * SPS, PPS and AUD units are dropped when drop_params is set (FLV carries
 * them in the sequence header). Returns 0 or OA_ETOOBIG.
 */
int avc_annexb_to_avcc(const uint8_t *p, size_t len, bool drop_params, struct oa_buf *out);
/* True if the Annex B access unit contains an IDR slice. */
bool avc_annexb_has_idr(const uint8_t *p, size_t len);

#endif
