/*
 * render.h - one response tree, rendered as JSON or XML in one place.
 *
 * Handlers build a jansson object (insertion order is kept) and never write
 * JSON or XML themselves. Lists follow the API's wrapping convention, built
 * with api_list(): {"CasterList": {"Caster": [ ... ]}}. In XML an array is
 * rendered as one element per item, each named after the array's key:
 *
 *     <CasterList><Caster>...</Caster><Caster>...</Caster></CasterList>
 *
 * Strings are escaped; numbers keep their JSON type (integers stay integers,
 * reals are printed with up to 15 significant digits so 0.1 prints as 0.1);
 * booleans print as true/false; null renders as an empty element in XML.
 */
#ifndef OA_API_RENDER_H
#define OA_API_RENDER_H

#include "core/buf.h"

#include <jansson.h>

/* Appends tree (an object) as compact JSON. */
int api_render_json(const json_t *tree, struct oa_buf *out);
/* Appends '<?xml version="1.0" encoding="UTF-8"?><root>...</root>'. */
int api_render_xml(const json_t *tree, const char *root, struct oa_buf *out);

/*
 * Adds parent[container] = {item: []} and returns the (borrowed) array, so
 * handlers write: json_t *a = api_list(resp, "CasterList", "Caster");
 */
json_t *api_list(json_t *parent, const char *container, const char *item);

#endif
