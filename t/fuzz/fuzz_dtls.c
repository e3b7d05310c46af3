/* libFuzzer target: arbitrary datagrams into a DTLS server endpoint (and a client).
 * Input: datagrams, each prefixed by a 2-byte big-endian length. Properties: no
 * crash, no leak (endpoints are made and freed per input; the certificate is made
 * once), every datagram popped fits the MTU, the endpoint never reports a connected
 * state (no peer holds our certificate's key). */
#include <stdlib.h>
#include <string.h>

#include "sluice/dtls.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static struct dtls_cert *cert;

static void drain(struct dtls *d)
{
	const uint8_t *p;
	size_t len;

	while (dtls_pop(d, &p, &len) == 1)
		CHECK(len > 0 && len <= DTLS_MTU);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dtls *srv, *cli;
	struct dtls_fp fp;
	size_t off = 0;

	if (!cert)
		CHECK(dtls_cert_new(&cert) == 0);
	CHECK(dtls_new(&srv, cert, false) == 0);
	CHECK(dtls_new(&cli, cert, true) == 0);
	memset(&fp, 0, sizeof(fp));
	fp.hash = DTLS_HASH_SHA256;
	fp.len = 32;
	dtls_set_remote_fingerprint(srv, &fp);
	dtls_start(cli);
	drain(cli);
	while (size - off >= 2) {
		size_t n = (size_t)data[off] << 8 | data[off + 1];

		off += 2;
		if (n > size - off)
			n = size - off;
		dtls_input(srv, data + off, n);
		dtls_input(cli, data + off, n);
		drain(srv);
		drain(cli);
		off += n;
	}
	CHECK(dtls_state(srv) != DTLS_CONNECTED);
	dtls_timeout_ms(srv);
	dtls_free(srv);
	dtls_free(cli);
	return 0;
}
