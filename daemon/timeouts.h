/* Periodic call housekeeping: RTP timeout, silent timeout (hold / one-way), final
 * timeout, offer timeout (never answered) and the end of delete-delay. */
#ifndef SLUICE_TIMEOUTS_H
#define SLUICE_TIMEOUTS_H

struct daemon;

/* Control thread, about once a second. O(calls). */
void timeouts_scan(struct daemon *d);

#endif
