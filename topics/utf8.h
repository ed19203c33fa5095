/*
 * Strict UTF-8 (Unicode table 3-7): no overlong forms, surrogates or
 * code points past U+10FFFF. Every text rule of the wire contract, and
 * every place that reads text, decodes with this one function.
 */
#ifndef ZB_UTF8_H
#define ZB_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode the sequence at s[0..len), len > 0. Returns its length (1 to
 * 4) and sets *cp; -EAGAIN if s[0..len) is a well-formed start cut
 * short; -EILSEQ otherwise. On error *cp is the first byte.
 */
int utf8_decode(const char *s, size_t len, uint32_t *cp);

#endif
