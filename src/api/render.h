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
 * reals are printed with up to 15 significant digits so 0.1 prints as 0.1,
 * 1.0 as 1.0 and 1e-7 as 1e-7, identically in both formats); booleans print
 * as true/false; null renders as an empty element in XML, and so does an
 * empty list's container (<CasterList></CasterList>). An array item that is
 * itself an array becomes one element holding one element per inner item.
 *
 * XML 1.0 cannot carry most control characters even as references: in XML
 * text, C0 controls other than tab and LF, U+FFFE, U+FFFF and bytes that are
 * not UTF-8 become U+FFFD, and CR becomes "&#xD;". Bytes of a key that may
 * not appear in an XML name become '_'. Trees deeper than 256 levels are
 * OA_EINVAL; a full buffer is OA_ETOOBIG (output may then be partial).
 */
#ifndef OA_API_RENDER_H
#define OA_API_RENDER_H

#include "core/buf.h"

#include <jansson.h>

/* Appends tree (an object) as compact JSON; OA_EINVAL if jansson cannot dump it. */
int api_render_json(const json_t *tree, struct oa_buf *out);
/* Appends '<?xml version="1.0" encoding="UTF-8"?><root>...</root>'. */
int api_render_xml(const json_t *tree, const char *root, struct oa_buf *out);

/*
 * Adds parent[container] = {item: []} and returns the (borrowed) array, so
 * handlers write: json_t *a = api_list(resp, "CasterList", "Caster");
 */
json_t *api_list(json_t *parent, const char *container, const char *item);

#endif
