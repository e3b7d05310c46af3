/* relay_uring: the io_uring backend of a media worker, on real loopback sockets:
 * packets handed out with their socket, source and bytes; sends leaving from the named
 * socket; a deleted socket's packets no longer consumed; truncation flagged; a receive
 * that ran out of buffers re-armed with nothing lost; packets of several sockets in the
 * order they arrived. Skipped where the kernel lacks
 * what the backend needs (the daemon then falls back). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../daemon/call.h"
#include "../../daemon/relay_uring.h"

#define PKT_MAX 256
#define MAX_RX  64

struct fx {
	struct relay_uring *u;
	int wake;
	int tx;                         /* the peer: sends to and receives from the relay */
	int sock[2];
	struct stream_ref ref[2];
	struct relay_rx rx[MAX_RX];
};

static int udp_bound(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static union sockaddr_u addr_of(int fd)
{
	union sockaddr_u a;
	socklen_t l = sizeof(a);

	memset(&a, 0, sizeof(a));
	assert_int_equal(getsockname(fd, &a.sa, &l), 0);
	return a;
}

static void send_to(int from, int to, const char *msg, size_t len)
{
	union sockaddr_u d = addr_of(to);

	assert_int_equal(sendto(from, msg, len, 0, &d.sa, sizeof(d.sin)), (ssize_t)len);
}

static int setup_n(void **state, unsigned n_bufs, bool stamped)
{
	static struct fx f;
	const char *why = NULL;

	memset(&f, 0, sizeof(f));
	f.wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (relay_uring_new(&f.u, n_bufs, PKT_MAX, f.wake, &why)) {
		fprintf(stderr, "relay_uring unavailable here (%s): skipped\n", why);
		close(f.wake);
		*state = NULL;
		return 0;
	}
	if (stamped)
		relay_uring_set_stamped(f.u);
	f.tx = udp_bound();
	for (int i = 0; i < 2; i++) {
		f.sock[i] = udp_bound();
		f.ref[i] = (struct stream_ref){ .fd = f.sock[i], .idx = (uint8_t)i };
		assert_int_equal(relay_uring_add(f.u, &f.ref[i]), 0);
	}
	*state = &f;
	return 0;
}

static int setup(void **state)
{
	return setup_n(state, 64, false);
}

static int setup_stamped(void **state)
{
	return setup_n(state, 64, true);
}

static int setup_few(void **state)
{
	return setup_n(state, 8, false);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	relay_uring_free(f->u);
	close(f->tx);
	close(f->sock[0]);
	close(f->sock[1]);
	close(f->wake);
	return 0;
}

/* Rounds of 20 ms until want packets were handed out (or 50 rounds). */
static unsigned collect(struct fx *f, unsigned want, struct relay_rx *out, char (*copy)[PKT_MAX])
{
	unsigned got = 0;

	for (int r = 0; r < 50 && got < want; r++) {
		unsigned n = relay_uring_round(f->u, 20, f->rx, MAX_RX);

		for (unsigned i = 0; i < n && got < MAX_RX; i++, got++) {
			out[got] = f->rx[i];
			memcpy(copy[got], f->rx[i].p, f->rx[i].len < PKT_MAX ? f->rx[i].len : PKT_MAX);
		}
	}
	return got;
}

static void test_receive(void **state)
{
	struct fx *f = *state;
	if (!f)
		skip();
	struct relay_rx got[MAX_RX];
	char data[MAX_RX][PKT_MAX];
	union sockaddr_u tx = addr_of(f->tx);
	unsigned n0 = 0, n1 = 0;

	relay_uring_round(f->u, 0, f->rx, MAX_RX);      /* arms both */
	send_to(f->tx, f->sock[0], "a-one", 5);
	send_to(f->tx, f->sock[1], "b-one", 5);
	send_to(f->tx, f->sock[0], "a-two!", 6);
	assert_int_equal(collect(f, 3, got, data), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(got[i].src->sin.sin_port, tx.sin.sin_port);
		assert_int_equal(got[i].src->sin.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
		assert_false(got[i].trunc);
		if (got[i].ref == &f->ref[0]) {
			assert_memory_equal(data[i], n0 ? "a-two!" : "a-one", n0 ? 6 : 5);
			assert_int_equal(got[i].len, n0 ? 6 : 5);
			n0++;
		} else {
			assert_ptr_equal(got[i].ref, &f->ref[1]);
			assert_int_equal(got[i].len, 5);
			assert_memory_equal(data[i], "b-one", 5);
			n1++;
		}
	}
	assert_int_equal(n0, 2);
	assert_int_equal(n1, 1);
	/* the payload may be written up to PKT_MAX bytes (in-place SRTP): owned */
	assert_true(relay_uring_owns(f->u, got[0].p + PKT_MAX - 1));
	assert_false(relay_uring_owns(f->u, (const uint8_t *)data));
}

static void test_send(void **state)
{
	struct fx *f = *state;
	if (!f)
		skip();
	union sockaddr_u dest = addr_of(f->tx), from, s1 = addr_of(f->sock[1]);
	char buf[64];

	relay_uring_send(f->u, f->sock[1], &dest, "first", 5);
	relay_uring_send(f->u, f->sock[1], &dest, "second", 6);
	relay_uring_send(f->u, f->sock[1], &dest, "third!!", 7);
	relay_uring_round(f->u, 0, f->rx, MAX_RX);      /* the round's submit sends them */
	for (int i = 0; i < 3; i++) {
		socklen_t l = sizeof(from);
		ssize_t n = recvfrom(f->tx, buf, sizeof(buf), MSG_DONTWAIT, &from.sa, &l);

		assert_int_equal(n, 5 + i);
		assert_memory_equal(buf, i == 0 ? "first" : i == 1 ? "second" : "third!!", 5 + i);
		assert_int_equal(from.sin.sin_port, s1.sin.sin_port);
	}
	assert_int_equal(recv(f->tx, buf, sizeof(buf), MSG_DONTWAIT), -1);
}

/* After del, the socket's packets are neither handed out nor consumed: they wait in the
 * socket for whoever reads it (the worker no longer does). */
static void test_del(void **state)
{
	struct fx *f = *state;
	if (!f)
		skip();
	struct relay_rx got[MAX_RX];
	char data[MAX_RX][PKT_MAX], buf[64];

	relay_uring_round(f->u, 0, f->rx, MAX_RX);
	relay_uring_del(f->u, &f->ref[1]);
	assert_null(f->ref[1].rx_slot);
	for (int r = 0; r < 3; r++)
		relay_uring_round(f->u, 5, f->rx, MAX_RX);     /* cancel, last completion */
	send_to(f->tx, f->sock[1], "late-1", 6);
	send_to(f->tx, f->sock[1], "late-2", 6);
	send_to(f->tx, f->sock[0], "live", 4);
	assert_int_equal(collect(f, 1, got, data), 1);
	assert_ptr_equal(got[0].ref, &f->ref[0]);
	assert_memory_equal(data[0], "live", 4);
	assert_int_equal(collect(f, 1, got, data), 0);
	assert_int_equal(recv(f->sock[1], buf, sizeof(buf), MSG_DONTWAIT), 6);
	assert_memory_equal(buf, "late-1", 6);
	assert_int_equal(recv(f->sock[1], buf, sizeof(buf), MSG_DONTWAIT), 6);
	assert_memory_equal(buf, "late-2", 6);
	/* added again: read again */
	assert_int_equal(relay_uring_add(f->u, &f->ref[1]), 0);
	send_to(f->tx, f->sock[1], "back", 4);
	assert_int_equal(collect(f, 1, got, data), 1);
	assert_ptr_equal(got[0].ref, &f->ref[1]);
	assert_memory_equal(data[0], "back", 4);
}

/* Stamped (as on a kernel that posts completions newest first): a round hands out its
 * packets in the order they arrived, not in the order of their completions. Here a
 * socket armed late reads its older packet after the newer one of the other socket had
 * completed. */
static void test_arrival_order(void **state)
{
	struct fx *f = *state;
	if (!f)
		skip();
	struct relay_rx got[MAX_RX];
	char data[MAX_RX][PKT_MAX];

	assert_true(relay_uring_stamped(f->u));
	relay_uring_round(f->u, 0, f->rx, MAX_RX);
	relay_uring_del(f->u, &f->ref[1]);
	for (int r = 0; r < 3; r++)
		relay_uring_round(f->u, 5, f->rx, MAX_RX);
	send_to(f->tx, f->sock[1], "older", 5);         /* waits: nothing armed */
	usleep(1000);
	send_to(f->tx, f->sock[0], "newer", 5);         /* completes at once */
	usleep(1000);
	assert_int_equal(relay_uring_add(f->u, &f->ref[1]), 0);
	assert_int_equal(collect(f, 2, got, data), 2);
	assert_ptr_equal(got[0].ref, &f->ref[1]);
	assert_memory_equal(data[0], "older", 5);
	assert_ptr_equal(got[1].ref, &f->ref[0]);
	assert_memory_equal(data[1], "newer", 5);
}

static void test_truncated(void **state)
{
	struct fx *f = *state;
	if (!f)
		skip();
	struct relay_rx got[MAX_RX];
	char data[MAX_RX][PKT_MAX], big[PKT_MAX + 100];

	memset(big, 'x', sizeof(big));
	relay_uring_round(f->u, 0, f->rx, MAX_RX);
	send_to(f->tx, f->sock[0], big, sizeof(big));
	send_to(f->tx, f->sock[0], big, PKT_MAX);
	assert_int_equal(collect(f, 2, got, data), 2);
	assert_true(got[0].trunc);
	assert_false(got[1].trunc);
	assert_int_equal(got[1].len, PKT_MAX);
}

/* 8 buffers, 40 packets waiting: the receive ends out of buffers and is re-armed once
 * they are given back; every packet arrives, in order. */
static void test_out_of_buffers(void **state)
{
	struct fx *f = *state;
	if (!f)
		skip();
	struct relay_rx got[MAX_RX];
	char data[MAX_RX][PKT_MAX], msg[16];
	unsigned n;

	relay_uring_round(f->u, 0, f->rx, MAX_RX);
	for (int i = 0; i < 40; i++) {
		snprintf(msg, sizeof(msg), "pkt-%02d", i);
		send_to(f->tx, f->sock[0], msg, 6);
	}
	n = collect(f, 40, got, data);
	assert_int_equal(n, 40);
	for (int i = 0; i < 40; i++) {
		snprintf(msg, sizeof(msg), "pkt-%02d", i);
		assert_ptr_equal(got[i].ref, &f->ref[0]);
		assert_memory_equal(data[i], msg, 6);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_receive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arrival_order, setup_stamped, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_buffers, setup_few, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
