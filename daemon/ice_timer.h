/* The ICE pacing timer: connectivity checks go out every Ta (20 ms), finer than the
 * control thread's 100 ms housekeeping tick, but only a few calls are checking at any
 * moment. Those calls sit in a short list (struct ice_hot, in the daemon context); the
 * control loop waits no longer than the earliest check due among them and then runs
 * them again (secure_kick). Every other agent (consent checks every ~5 s,
 * retransmissions) is served by the tick, which rebuilds the list.
 *
 * Control thread only. A call leaves the list when the tick rebuilds it and when it
 * is destroyed (call_destroy), so the list never holds a freed call. When more than
 * ICE_HOT_MAX calls are checking at once, the rest are paced by the tick (100 ms). */
#ifndef SLUICE_ICE_TIMER_H
#define SLUICE_ICE_TIMER_H

#include <stdint.h>

struct daemon;
struct call;

/* Call c has ICE work due at due_us (mono_us clock): keep it in the list. */
void ice_timer_note(struct daemon *d, struct call *c, int64_t due_us);
/* c is going away: out of the list. */
void ice_timer_forget(struct daemon *d, struct call *c);
/* Empty the list (the tick is about to walk every call). */
void ice_timer_reset(struct daemon *d);
/* epoll_wait timeout: ms until the earliest due check, -1 when none. */
int ice_timer_wait_ms(const struct daemon *d);
/* Run the calls whose work is due (the control loop, after its events). */
void ice_timer_run(struct daemon *d);

#endif
