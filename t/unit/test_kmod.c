/* kmod: stream -> ABI conversion (byte order, families, padding) and behaviour without
 * the module (the host kernel has none; the module itself is tested in t/kernel). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sluice/kmod.h"

static union sockaddr_u addr(const char *s)
{
	union sockaddr_u a;

	assert_int_equal(netaddr_parse(s, 0, false, &a), 0);
	return a;
}

static void test_ipv4(void **state)
{
	struct kmod_stream s = { .flags = SLUICE_SF_SET_TOS, .tos = 0xb8 };
	struct sluice_stream abi;
	static const uint8_t zero[12];

	(void)state;
	s.local = addr("10.0.1.1:30000");
	s.expect_src.sa.sa_family = AF_UNSPEC;
	s.out_src = addr("10.0.2.1:30002");
	s.out_dst = addr("192.0.2.7:40002");
	assert_int_equal(kmod_stream_to_abi(&s, &abi), 0);
	assert_int_equal(abi.local.family, SLUICE_FAMILY_INET);
	assert_int_equal(abi.local.port, htons(30000));
	assert_memory_equal(abi.local.addr, "\x0a\x00\x01\x01", 4);
	assert_memory_equal(abi.local.addr + 4, zero, 12);
	assert_int_equal(abi.expect_src.family, SLUICE_FAMILY_NONE);
	assert_int_equal(abi.expect_src.port, 0);
	assert_memory_equal(abi.out_dst.addr, "\xc0\x00\x02\x07", 4);
	assert_int_equal(abi.out_dst.port, htons(40002));
	assert_int_equal(abi.flags, SLUICE_SF_SET_TOS);
	assert_int_equal(abi.tos, 0xb8);
	assert_int_equal(abi.pad[0] | abi.pad[1] | abi.pad[2], 0);
	assert_int_equal(abi.reserved[0] | abi.reserved[1], 0);
	assert_int_equal(abi.local.pad0 | abi.local.pad1, 0);
}

static void test_ipv6_and_bridging(void **state)
{
	struct kmod_stream s = { 0 };
	struct sluice_stream abi;

	(void)state;
	s.local = addr("[fd01::1]:30000");
	s.expect_src = addr("[fd01::2]:40000");
	s.out_src = addr("10.0.2.1:30002");
	s.out_dst = addr("10.0.2.2:40002");
	assert_int_equal(kmod_stream_to_abi(&s, &abi), 0);
	assert_int_equal(abi.local.family, SLUICE_FAMILY_INET6);
	assert_int_equal(abi.expect_src.family, SLUICE_FAMILY_INET6);
	assert_int_equal(abi.expect_src.port, htons(40000));
	assert_int_equal(abi.expect_src.addr[0], 0xfd);
	assert_int_equal(abi.expect_src.addr[15], 2);
	assert_int_equal(abi.out_src.family, SLUICE_FAMILY_INET);
}

static void test_bad_family(void **state)
{
	struct kmod_stream s = { 0 };
	struct sluice_stream abi;

	(void)state;
	s.local = addr("10.0.1.1:30000");
	s.out_src = addr("10.0.2.1:30002");
	/* out_dst left AF_UNSPEC: only expect_src may be "any" */
	assert_int_equal(kmod_stream_to_abi(&s, &abi), -EINVAL);
	s.out_dst = addr("10.0.2.2:1");
	s.local.sa.sa_family = AF_UNIX;
	assert_int_equal(kmod_stream_to_abi(&s, &abi), -EINVAL);
}

static void test_open_without_module(void **state)
{
	struct kmod *k = (struct kmod *)1;

	(void)state;
	if (kmod_available())
		skip();		/* running where the module is loaded: t/kernel covers it */
	assert_int_equal(kmod_open(&k, 0, 0, 0), -ENOENT);
	assert_null(k);
	assert_int_equal(kmod_open(&k, SLUICE_MAX_INSTANCES, 0, 0), -ERANGE);
	kmod_close(NULL, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6_and_bridging),
		cmocka_unit_test(test_bad_family),
		cmocka_unit_test(test_open_without_module),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
