/* The ICE pacing timer (ice_timer.h). */
#include "ice_timer.h"

#include <stdint.h>
#include <string.h>

#include "daemon.h"
#include "secure.h"

void ice_timer_note(struct daemon *d, struct call *c, int64_t due_us)
{
	struct ice_hot *h = &d->ice_hot;
	unsigned i = 0;

	if (!h->n)
		h->due_us = INT64_MAX;
	while (i < h->n && h->calls[i] != c)    /* O(n), n <= ICE_HOT_MAX and small */
		i++;
	if (i == h->n) {
		if (h->n >= ICE_HOT_MAX)
			return;                 /* the tick paces this one */
		h->calls[h->n++] = c;
	}
	if (due_us < h->due_us)
		h->due_us = due_us;
}

void ice_timer_forget(struct daemon *d, struct call *c)
{
	struct ice_hot *h = &d->ice_hot;

	for (unsigned i = 0; i < h->n; i++)
		if (h->calls[i] == c) {
			h->calls[i] = h->calls[--h->n];
			return;
		}
}

void ice_timer_reset(struct daemon *d)
{
	d->ice_hot.n = 0;
	d->ice_hot.due_us = INT64_MAX;
}

int ice_timer_wait_ms(const struct daemon *d)
{
	const struct ice_hot *h = &d->ice_hot;
	int64_t left;

	if (!h->n)
		return -1;
	left = h->due_us - mono_us();
	if (left <= 0)
		return 0;
	return left > 1000000 ? 1000 : (int)((left + 999) / 1000);
}

void ice_timer_run(struct daemon *d)
{
	struct ice_hot *h = &d->ice_hot;
	struct call *calls[ICE_HOT_MAX];
	unsigned n = h->n;

	if (!n || mono_us() < h->due_us)
		return;
	/* secure_kick notes again the calls that still have work before the tick */
	memcpy(calls, h->calls, n * sizeof(calls[0]));
	ice_timer_reset(d);
	for (unsigned i = 0; i < n; i++)
		secure_kick(d, calls[i]);
}
