/* Parser for the plan wire format described in plan.h. Bounds-checked: the plan comes from our own
 * TypeScript, but a truncated or corrupted plan must fail cleanly, never read out of bounds. */
#include <stdlib.h>
#include <string.h>
#include "plan.h"

static int take(const unsigned char **p, const unsigned char *end, void *dst, size_t n)
{
	if ((size_t)(end - *p) < n)
		return -1;
	memcpy(dst, *p, n);
	*p += n;
	return 0;
}

int plan_parse(unsigned char *buf, size_t len, struct plan *out)
{
	const unsigned char *p = buf, *end = buf + len;
	uint32_t version, n;
	char magic[4];

	if (take(&p, end, magic, 4) || memcmp(magic, PLAN_MAGIC, 4) || take(&p, end, &version, 4) ||
	    version != PLAN_VERSION || take(&p, end, &n, 4) || n > 100000)
		return -1;
	out->nsteps = n;
	out->steps = calloc(n ? n : 1, sizeof(struct step));
	if (!out->steps)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		struct step *s = &out->steps[i];
		uint16_t op, nf;
		if (take(&p, end, &op, 2) || take(&p, end, &nf, 2) || nf > PLAN_MAX_FIELDS)
			return -1;
		s->op = op;
		s->nfields = nf;
		for (int j = 0; j < nf; j++) {
			unsigned char kind;
			if (take(&p, end, &kind, 1))
				return -1;
			if (kind == 'i') {
				if (take(&p, end, &s->f[j].num, 8))
					return -1;
			} else if (kind == 's') {
				uint32_t l;
				if (take(&p, end, &l, 4) || (size_t)(end - p) < (size_t)l + 1 || p[l] != 0)
					return -1;
				s->f[j].is_str = 1;
				s->f[j].str = (const char *)p;
				s->f[j].len = l;
				p += l + 1;
			} else {
				return -1;
			}
		}
	}
	return p == end ? 0 : -1;
}
