/*
 * compose.h - drawing layers onto a scene's canvas (YUV 4:2:0, limited range).
 *
 * The composer belongs to one scene thread. Moving pictures are scaled by
 * swscale into a per-layer frame and copied into the canvas at the layer's
 * position (swscale writes whole SIMD blocks past the end of each row, so it
 * cannot write into a rectangle of the canvas directly); the swscale context
 * of each layer slot is kept while the source size, format and destination
 * size stay the same. Still pictures (images) are scaled once into the
 * per-layer frame and then only copied, or alpha-blended if the image has
 * transparency.
 */
#ifndef OA_STUDIO_COMPOSE_H
#define OA_STUDIO_COMPOSE_H

#include "studio/layout.h"

struct AVFrame;
struct studio_composer;

/* A composer for a w x h canvas; NULL if out of memory. */
struct studio_composer *studio_composer_new(int w, int h);
void studio_composer_free(struct studio_composer *c);

/* Paints the whole canvas black. */
void studio_compose_clear(struct AVFrame *canvas);
/* Paints r (already clipped to the canvas) black. */
void studio_compose_fill_black(struct AVFrame *canvas, struct studio_rect r);
/*
 * Draws src into canvas as placed by pl (dst, src and letterbox bars), using
 * the cache of layer slot `slot`. still/gen: src is a still picture and gen
 * identifies it, so its scaled form can be reused. 0 or OA_ECODEC.
 */
int studio_compose_layer(struct studio_composer *c, int slot, struct AVFrame *canvas,
                         const struct studio_place *pl, struct AVFrame *src, bool still,
                         uint64_t gen);

#endif
