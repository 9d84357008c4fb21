/*
 * layout.h - the production studio's layouts and their geometry.
 *
 * A layout is what the API calls VideoLayer[] + BlendList[] and
 * AudioLayer[] + MixList[]: ordered video layers (the first is the bottom of
 * the stack) and audio layers, each naming the input ("RV01".."RV99") that
 * feeds it. Layouts are plain values (fixed arrays, no pointers), so they are
 * copied with `=` and cross threads by copy.
 *
 * studio_layout_place() is the whole of the geometry, as a pure function of
 * (canvas size, layer, source picture size). Conventions (docs/api.md should
 * say the same):
 *
 *   Size. HeightNormalized h and WidthNormalized w are fractions of the
 *   canvas height H and width W. Only h: height = h*H, width follows the
 *   source's aspect ratio. Only w: the mirror case. Both, FillMode none: the
 *   picture is stretched to exactly w*W x h*H (may distort). Both 0: the
 *   source's own size, unscaled. FillMode fit needs both; the picture is
 *   scaled to fit inside the w*W x h*H box keeping its aspect ratio, centred
 *   in the box, and the rest of the box is painted black (letterbox). A fit
 *   layer with a zero w or h behaves as FillMode none.
 *
 *   Position. PositionRefer names a point of the canvas that is the origin
 *   and the same point of the layer (its box, for fit) that is placed at the
 *   offset PositionNormalized [x,y] (fractions of W and H). On an axis where
 *   the anchor is an edge the offset goes inward from that edge; on an axis
 *   where the anchor is centred, positive x goes right and positive y goes
 *   down. With L = layer width, T = layer height:
 *       left  edge (topLeft, bottomLeft, leftCenter):    X = x*W
 *       right edge (topRight, bottomRight, rightCenter): X = W - x*W - L
 *       centred    (center, topCenter, bottomCenter):    X = (W - L)/2 + x*W
 *       top   edge (topLeft, topRight, topCenter):       Y = y*H
 *       bottom edge (bottomLeft, bottomRight, bottomCenter): Y = H - y*H - T
 *       centred    (center, leftCenter, rightCenter):    Y = (H - T)/2 + y*H
 *   so topRight [0.1,0.2] puts the layer's top-right corner 10% of W in from
 *   the right edge and 20% of H down from the top.
 *
 *   Rounding. YUV 4:2:0 wants even coordinates: every size and position is
 *   rounded to the nearest even integer (halves away from zero) after it is
 *   computed in floating point; a non-zero size is at least 2. Edge-anchored
 *   offsets therefore come out identical from both edges.
 *
 *   Clipping. Layers may extend past the canvas; what is outside is cut off,
 *   and `src` says which part of the source picture is still visible.
 *
 * Pure and thread-safe.
 */
#ifndef OA_STUDIO_LAYOUT_H
#define OA_STUDIO_LAYOUT_H

#include "core/common.h"

/* Layers per layout (Aliyun documents 12 inputs; leave room). */
#define STUDIO_MAX_LAYERS 32
/* Location ids are "RV01".."RV99"; index 0 is unused. */
#define STUDIO_MAX_INPUTS 100

enum studio_refer {
    STUDIO_REFER_TOP_LEFT = 0, /* the default */
    STUDIO_REFER_TOP_RIGHT,
    STUDIO_REFER_BOTTOM_LEFT,
    STUDIO_REFER_BOTTOM_RIGHT,
    STUDIO_REFER_CENTER,
    STUDIO_REFER_TOP_CENTER,
    STUDIO_REFER_BOTTOM_CENTER,
    STUDIO_REFER_LEFT_CENTER,
    STUDIO_REFER_RIGHT_CENTER,
};

enum studio_fill {
    STUDIO_FILL_NONE = 0,
    STUDIO_FILL_FIT,
};

/* Which channel(s) of the source an audio layer uses (ValidChannel). */
enum studio_channel {
    STUDIO_CHANNEL_ALL = 0, /* stereo as is */
    STUDIO_CHANNEL_LEFT,    /* the source's left channel, on every output channel */
    STUDIO_CHANNEL_RIGHT,
};

struct studio_video_layer {
    char location_id[8]; /* "RV01".."RV99" */
    double height_norm, width_norm;
    double pos_x, pos_y;
    enum studio_refer refer;
    enum studio_fill fill;
};

struct studio_audio_layer {
    char location_id[8];
    double volume_rate; /* 0..10, 1 = unchanged */
    enum studio_channel channel;
};

struct studio_layout {
    int n_video;
    struct studio_video_layer video[STUDIO_MAX_LAYERS]; /* video[0] is the bottom layer */
    int n_audio;
    struct studio_audio_layer audio[STUDIO_MAX_LAYERS];
};

struct studio_rect {
    int x, y, w, h;
};

struct studio_place {
    /* The layer's box on the canvas, unclipped: for fit the w*W x h*H box, else == pic. */
    struct studio_rect box;
    /* Where the whole scaled source picture lands, unclipped. */
    struct studio_rect pic;
    /* pic clipped to the canvas; w == 0 and h == 0 when nothing is visible. */
    struct studio_rect dst;
    /* The part of the source (in source pixels) that is scaled onto dst. */
    struct studio_rect src;
    /* Letterbox bars (box minus pic), clipped to the canvas; fit only. */
    int nbars;
    struct studio_rect bars[4];
};

/*
 * Places layer l on a cw x ch canvas for a sw x sh source picture. Returns
 * 0, or OA_EINVAL for a canvas or source size that is not positive (or a
 * layer whose size would be absurd). A layer that is entirely off the canvas
 * is not an error: dst is empty.
 */
int studio_layout_place(int cw, int ch, const struct studio_video_layer *l, int sw, int sh,
                        struct studio_place *out);

/* Rounds to the nearest even integer, halves away from zero. */
int studio_round_even(double v);

/* The number in "RV01".."RV99" (1..99, case-insensitive prefix), or OA_EINVAL. */
int studio_location_index(const char *location_id);

/* Parse the API's spellings (case-insensitive); 0 or OA_EINVAL. Empty = the default. */
int studio_refer_parse(const char *s, enum studio_refer *out);
int studio_fill_parse(const char *s, enum studio_fill *out);
int studio_channel_parse(const char *s, enum studio_channel *out);
/* The API's spelling ("topLeft", "fit", "leftChannel", ...). */
const char *studio_refer_name(enum studio_refer r);
const char *studio_fill_name(enum studio_fill f);
const char *studio_channel_name(enum studio_channel c);

#endif
