/* NG access list: no list allows everything and counts nothing; with a list, exactly
 * the sources outside it are denied and counted per kind; the log says so at most once
 * per 10 s (first denial at once, the rest summed up by the tick), with the last
 * source. The log goes to a temporary file in place of stderr and is read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../daemon/ng_acl.h"
#include "sluice/log.h"

#define SEC 1000000LL

static union sockaddr_u addr(const char *ip, uint16_t port)
{
	union sockaddr_u u;

	assert_int_equal(netaddr_parse_ip(ip, strlen(ip), 0, &u), 0);
	netaddr_set_port(&u, port);
	return u;
}

/* stderr -> a temporary file for the duration of a test */
static FILE *logf_;
static int saved_stderr = -1;

static void capture_start(void)
{
	char path[] = "/tmp/sluice-test-acl-XXXXXX";
	int fd = mkstemp(path);

	/* a separate open file for reading: the writer's offset is not ours */
	assert_true(fd >= 0);
	logf_ = fopen(path, "r");
	unlink(path);
	assert_non_null(logf_);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
	log_init(7, true, "test", 0);
}

/* Lines containing "denied" logged since the last call; the last one into last. */
static unsigned denied_lines(char *last, size_t len)
{
	char line[512];
	unsigned n = 0;

	fflush(stderr);
	while (fgets(line, sizeof(line), logf_)) {
		if (strstr(line, "NG: denied")) {
			n++;
			snprintf(last, len, "%s", line);
		}
	}
	clearerr(logf_);
	return n;
}

static void capture_stop(void)
{
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	fclose(logf_);
}

static void test_no_list(void **state)
{
	struct ng_acl acl;
	union sockaddr_u a = addr("203.0.113.9", 1), b = addr("2001:db8::1", 2);

	(void)state;
	ng_acl_init(&acl, NULL, 0);
	for (int i = 0; i < 100; i++) {
		assert_true(ng_acl_check(&acl, &a, NG_ACL_DATAGRAM, i * SEC));
		assert_true(ng_acl_check(&acl, &b, NG_ACL_CONNECTION, i * SEC));
	}
	assert_int_equal(acl.denied_datagrams, 0);
	assert_int_equal(acl.denied_connections, 0);
}

static void test_deny_count_log(void **state)
{
	struct cidr allow[2];
	struct ng_acl acl;
	union sockaddr_u kam = addr("127.0.0.2", 5060), v6 = addr("2001:db8::7", 5060);
	union sockaddr_u x1 = addr("127.0.0.1", 40000), x2 = addr("127.0.0.3", 40001);
	union sockaddr_u x6 = addr("2001:db9::7", 1), mapped = addr("::ffff:127.0.0.2", 9);
	char last[512] = "";
	int64_t t = 1000 * SEC;

	(void)state;
	assert_int_equal(cidr_parse("127.0.0.2/32", &allow[0], NULL), 0);
	assert_int_equal(cidr_parse("2001:db8::/64", &allow[1], NULL), 0);
	ng_acl_init(&acl, allow, 2);
	capture_start();

	assert_true(ng_acl_check(&acl, &kam, NG_ACL_DATAGRAM, t));
	assert_true(ng_acl_check(&acl, &v6, NG_ACL_CONNECTION, t));
	assert_true(ng_acl_check(&acl, &mapped, NG_ACL_DATAGRAM, t));
	assert_int_equal(denied_lines(last, sizeof(last)), 0);

	/* first denial: logged at once */
	assert_false(ng_acl_check(&acl, &x1, NG_ACL_DATAGRAM, t));
	assert_int_equal(denied_lines(last, sizeof(last)), 1);
	assert_non_null(strstr(last, "denied 1 datagram(s)/connection(s)"));
	assert_non_null(strstr(last, "last from 127.0.0.1:40000"));

	/* a flood within the next 10 s: counted, not logged, allowed sources unaffected */
	for (int i = 0; i < 1000; i++) {
		assert_false(ng_acl_check(&acl, &x2, NG_ACL_DATAGRAM, t + i * 1000));
		assert_true(ng_acl_check(&acl, &kam, NG_ACL_DATAGRAM, t + i * 1000));
	}
	assert_false(ng_acl_check(&acl, &x6, NG_ACL_CONNECTION, t + 2 * SEC));
	ng_acl_tick(&acl, t + 10 * SEC - 1);
	assert_int_equal(denied_lines(last, sizeof(last)), 0);
	assert_int_equal(acl.denied_datagrams, 1001);
	assert_int_equal(acl.denied_connections, 1);

	/* the tick at 10 s sums them up in one line, naming the last source */
	ng_acl_tick(&acl, t + 10 * SEC);
	assert_int_equal(denied_lines(last, sizeof(last)), 1);
	assert_non_null(strstr(last, "denied 1001 datagram(s)/connection(s)"));
	assert_non_null(strstr(last, "last from [2001:db9::7]:1"));
	assert_non_null(strstr(last, "totals: 1001 datagrams, 1 connections"));
	/* nothing new: the tick stays quiet */
	ng_acl_tick(&acl, t + 30 * SEC);
	assert_int_equal(denied_lines(last, sizeof(last)), 0);

	/* a denial long after the last line is logged at once again */
	assert_false(ng_acl_check(&acl, &x1, NG_ACL_DATAGRAM, t + 31 * SEC));
	assert_int_equal(denied_lines(last, sizeof(last)), 1);
	/* one per 10 s at most, however the denials and ticks interleave: 41 51 61 71 81 */
	for (int64_t now = t + 31 * SEC; now < t + 91 * SEC; now += SEC / 10) {
		assert_false(ng_acl_check(&acl, &x2, NG_ACL_DATAGRAM, now));
		ng_acl_tick(&acl, now);
	}
	assert_int_equal(denied_lines(last, sizeof(last)), 5);
	assert_non_null(strstr(last, "denied 100 datagram(s)/connection(s)"));
	capture_stop();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_list),
		cmocka_unit_test(test_deny_count_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
