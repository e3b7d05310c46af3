/* libFuzzer target: what the relay reads out of media packets beyond forwarding them:
 * quality (RTP sequence/jitter state, RTCP SR/RR for RTT and the far end's report),
 * block/silence media (RTP payload bounds: CSRCs, extension, padding) and Homer's RTCP
 * JSON. Properties: no crash or read past the input; silencing never changes the length
 * nor the RTP header; quality counters stay consistent (received never exceeds what
 * the sequence numbers allow plus duplicates). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/call.h"
#include "../../daemon/hep_sender.h"
#include "../../daemon/media_block.h"
#include "sluice/quality.h"

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct quality_rx q;
	static struct quality_rtt r;
	static struct party party;
	static struct media media;
	static struct stream st;
	static int64_t now;
	uint8_t *p;
	json_object *j;

	now += 20000 + (size ? data[0] : 0) * 100;
	quality_rtp(&q, data, size, size & 1 ? 8000 : 48000, now);
	CHECK(quality_lost(&q) >= -(int64_t)q.received);
	(void)quality_jitter_ms(&q);
	(void)quality_interval_loss(&q);
	quality_rtcp_out(&r, data, size, now);
	quality_rtcp_in(&r, data, size, now + 1000);
	(void)quality_mos10("PCMU", (double)(size % 101), (double)(size % 500));

	media.party = &party;
	media.dtmf_pt = 101;
	st.media = &media;
	st.component = COMP_RTP;
	party.opts.block = (uint8_t)(size ? data[size - 1] & 7 : 4);
	if (!(p = malloc(size ? size : 1)))
		return 0;
	memcpy(p, data, size);
	if (media_block_pass(&st, p, size) && size >= 12)
		CHECK(!memcmp(p, data, 12));    /* the header is never rewritten */
	free(p);

	if ((j = hep_rtcp_json(data, size)))
		json_object_put(j);
	return 0;
}
