/* NG transports: UDP sockets and TCP listeners/connections, polled by the control
 * thread's epoll. Every message goes through ng_control_process(). */
#ifndef SLUICE_NG_SERVER_H
#define SLUICE_NG_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "ng_cache.h"

struct daemon;
struct ng_server;

struct ng_server_stats {
	struct ng_cache_stats cache;
	uint64_t denied_datagrams;      /* denied by --ng-allow */
	uint64_t denied_connections;
	unsigned tcp_connections;       /* open now */
	uint64_t oversized_replies;     /* UDP replies too large for a datagram, answered
	                                   with an error instead */
};

/* Bind every listen-ng / listen-tcp-ng address and add the sockets to epfd. 0 or
 * -errno with a one-line reason in err. */
int ng_server_open(struct ng_server **out, struct daemon *d, int epfd, char *err,
		   size_t errlen);
void ng_server_close(struct ng_server *s);
/* Handle an epoll event whose data.ptr came from this server. */
void ng_server_event(struct ng_server *s, void *ptr, uint32_t events);
/* Periodic: expire cached replies, log denied sources (rate-limited). */
void ng_server_tick(struct ng_server *s);
void ng_server_get_stats(const struct ng_server *s, struct ng_server_stats *out);

#endif
