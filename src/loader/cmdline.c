// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "loader/loader.h"

int cmdline_build(char *out, size_t max, const char *const *parts, size_t nparts)
{
	size_t used = 0;

	if (max == 0)
		return -E2BIG;
	out[0] = '\0';
	for (size_t i = 0; i < nparts; i++) {
		const char *p = parts[i];
		size_t n;

		if (!p)
			continue;
		while (*p == ' ')
			p++;
		n = strlen(p);
		while (n && p[n - 1] == ' ')
			n--;
		if (n == 0)
			continue;
		if (used + (used ? 1 : 0) + n + 1 > max)
			return -E2BIG;
		if (used)
			out[used++] = ' ';
		memcpy(out + used, p, n);
		used += n;
		out[used] = '\0';
	}
	return 0;
}
