#include "topics/utf8.h"

#include <errno.h>

/*
 * Lead bytes of well-formed UTF-8: how many continuation bytes follow
 * and the range of the first one, which is narrower after E0, ED, F0
 * and F4 (that is what excludes overlongs, surrogates and values past
 * U+10FFFF).
 */
static const struct {
	unsigned char first, last;
	unsigned char n;
	unsigned char lo, hi;
} utf8_leads[] = {
	{0xc2, 0xdf, 1, 0x80, 0xbf}, {0xe0, 0xe0, 2, 0xa0, 0xbf},
	{0xe1, 0xec, 2, 0x80, 0xbf}, {0xed, 0xed, 2, 0x80, 0x9f},
	{0xee, 0xef, 2, 0x80, 0xbf}, {0xf0, 0xf0, 3, 0x90, 0xbf},
	{0xf1, 0xf3, 3, 0x80, 0xbf}, {0xf4, 0xf4, 3, 0x80, 0x8f},
};

int utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t row, k;
	uint32_t v;

	*cp = u[0];
	if (u[0] < 0x80)
		return 1;
	for (row = 0; row < sizeof(utf8_leads) / sizeof(utf8_leads[0]); row++)
		if (u[0] >= utf8_leads[row].first &&
		    u[0] <= utf8_leads[row].last)
			break;
	if (row == sizeof(utf8_leads) / sizeof(utf8_leads[0]))
		return -EILSEQ;
	v = u[0] & (0x3f >> utf8_leads[row].n);
	for (k = 1; k <= utf8_leads[row].n; k++) {
		unsigned char lo = k > 1 ? 0x80 : utf8_leads[row].lo;
		unsigned char hi = k > 1 ? 0xbf : utf8_leads[row].hi;

		if (k >= len)
			return -EAGAIN;
		if (u[k] < lo || u[k] > hi)
			return -EILSEQ;
		v = (v << 6) | (u[k] & 0x3f);
	}
	*cp = v;
	return (int)k;
}
