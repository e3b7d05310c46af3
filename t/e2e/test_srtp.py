"""SDES-SRTP through sluiced: SRTP <-> plain RTP and SRTP <-> SRTP with different keys,
test peers on libsrtp2 (python3-pylibsrtp). Payloads must come out intact, tampered and
replayed packets must be dropped and counted."""

import time

import pytest

from calls import Call, err, ok, wait_for
from rtp import drain, recv_all, rtcp_sr, rtp_parse
from secure_peer import SdesKey, sdp_with

pytestmark = pytest.mark.sluice_only


def media0(reply, tag_):
	return reply["tags"][tag_]["medias"][0]


ALL_SUITES = ["AEAD_AES_256_GCM", "AEAD_AES_128_GCM", "AES_256_CM_HMAC_SHA1_80",
	      "AES_256_CM_HMAC_SHA1_32", "AES_192_CM_HMAC_SHA1_80", "AES_192_CM_HMAC_SHA1_32",
	      "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "F8_128_HMAC_SHA1_80",
	      "F8_128_HMAC_SHA1_32", "NULL_HMAC_SHA1_80", "NULL_HMAC_SHA1_32"]


def send_srtp(call, phone, session, dest, n=20, pps=100):
	"""n RTP packets protected with session; returns the plain packets."""
	sent = []
	for _ in range(n):
		p = phone.next_rtp()
		phone.rtp.sendto(session.protect(p), dest)
		sent.append(p)
		time.sleep(1.0 / pps)
	return sent


def send_plain(phone, dest, n=20, pps=100):
	return phone.send_rtp(dest, n=n, pps=pps)


def crypto_lines(sdp, i=0):
	return [SdesKey.parse(v) for v in sdp.attrs(i, "crypto")]


def srtp_to_plain_setup(relay, suite="AES_CM_128_HMAC_SHA1_80", **offer_kw):
	c = Call(relay)
	ka = SdesKey(suite)
	c.offer(sdp=sdp_with(c.a, "RTP/SAVP", [ka.line()]), **{"transport-protocol": "RTP/AVP"},
		**offer_kw)
	assert c.offer_reply.medias[0]["proto"] == "RTP/AVP"
	assert not c.offer_reply.attrs(0, "crypto"), c.offer_reply.text
	c.answer()
	assert c.answer_reply.medias[0]["proto"] == "RTP/SAVP", c.answer_reply.text
	ours = crypto_lines(c.answer_reply)
	assert len(ours) == 1 and ours[0].suite == suite and ours[0].tag == ka.tag
	assert ours[0].key != ka.key
	return c, ka, ours[0]


def test_sdes_srtp_to_plain_both_ways(relay):
	r = relay()
	c, ka, ks = srtp_to_plain_setup(r)
	tx_a, rx_a = ka.tx(), ks.rx()
	# A (SRTP) -> B (plain): B gets the plain packets A protected
	sent = send_srtp(c, c.a, tx_a, c.a_dest())
	got = recv_all(c.b.rtp, timeout=2, count=len(sent))
	assert sorted(d for d, _ in got) == sorted(sent)
	# B (plain) -> A (SRTP): A unprotects with sluice's key from the answer
	sent_b = send_plain(c.b, c.b_dest())
	got_a = recv_all(c.a.rtp, timeout=2, count=len(sent_b))
	assert len(got_a) == len(sent_b)
	assert all(d not in sent_b for d, _ in got_a)          # encrypted on the wire
	assert sorted(rx_a.unprotect(d) for d, _ in got_a) == sorted(sent_b)
	q = ok(c.query(), "query")
	ma, mb = media0(q, c.ftag), media0(q, c.ttag)
	assert ma["transport"] == "SDES" and ma["crypto suite"] == "AES_CM_128_HMAC_SHA1_80"
	assert ma["SRTP"]["unprotected"] == len(sent) and ma["SRTP"]["protected"] == len(sent_b)
	assert mb["transport"] == "plain"
	assert ma["streams"][0]["forwarding"] == "userspace"
	c.close()


def test_sdes_tampered_and_replayed_dropped(relay):
	r = relay()
	c, ka, _ = srtp_to_plain_setup(r)
	tx = ka.tx()
	good = [tx.protect(c.a.next_rtp()) for _ in range(5)]
	for p in good:
		c.a.rtp.sendto(p, c.a_dest())
	assert len(recv_all(c.b.rtp, timeout=2, count=5)) == 5
	# flip one payload bit of a fresh packet, and replay an old one
	bad = bytearray(tx.protect(c.a.next_rtp()))
	bad[20] ^= 0x01
	drain(c.b.rtp)
	c.a.rtp.sendto(bytes(bad), c.a_dest())
	c.a.rtp.sendto(good[2], c.a_dest())
	assert recv_all(c.b.rtp, timeout=1) == []
	# the stream still works afterwards
	p = c.a.next_rtp()
	c.a.rtp.sendto(tx.protect(p), c.a_dest())
	assert [d for d, _ in recv_all(c.b.rtp, timeout=2, count=1)] == [p]
	q = ok(c.query(), "query")
	ma = media0(q, c.ftag)
	assert ma["SRTP"]["auth failures"] == 1
	assert ma["SRTP"]["replays"] == 1
	assert ma["streams"][0]["stats"]["errors"] == 2
	c.close()


def test_sdes_srtcp_plain_rtcp(relay):
	"""SRTCP from the SRTP side arrives as plain RTCP on the plain side's RTCP port."""
	r = relay()
	c, ka, ks = srtp_to_plain_setup(r)
	tx = ka.tx()
	sr = rtcp_sr(c.a.ssrc, pkts=3, octets=480)
	c.a.rtcp.sendto(tx.protect_rtcp(sr), c.a_dest(rtcp=True))
	got = recv_all(c.b.rtcp, timeout=2, count=1)
	assert [d for d, _ in got] == [sr]
	sr_b = rtcp_sr(c.b.ssrc, pkts=1, octets=160)
	c.b.rtcp.sendto(sr_b, c.b_dest(rtcp=True))
	got = recv_all(c.a.rtcp, timeout=2, count=1)
	assert len(got) == 1 and ks.rx().unprotect_rtcp(got[0][0]) == sr_b
	c.close()


def test_sdes_both_sides_different_keys(relay):
	r = relay()
	c = Call(r)
	ka = SdesKey()
	c.offer(sdp=sdp_with(c.a, "RTP/SAVP", [ka.line()]))
	assert c.offer_reply.medias[0]["proto"] == "RTP/SAVP"
	offered = crypto_lines(c.offer_reply)
	# sluice offers its own keys: the offerer's suite first (its tag), then the rest in
	# rtpengine's order
	assert [k.suite for k in offered] == ["AES_CM_128_HMAC_SHA1_80"] + \
		[s for s in ALL_SUITES if s != "AES_CM_128_HMAC_SHA1_80"]
	assert [k.tag for k in offered] == list(range(1, 13))
	assert all(k.key != ka.key for k in offered)
	k32 = [k for k in offered if k.suite == "AES_CM_128_HMAC_SHA1_32"][0]
	kb = SdesKey("AES_CM_128_HMAC_SHA1_32", tag=k32.tag)
	c.answer(sdp=sdp_with(c.b, "RTP/SAVP", [kb.line()]))
	ks_a = crypto_lines(c.answer_reply)
	assert len(ks_a) == 1 and ks_a[0].suite == "AES_CM_128_HMAC_SHA1_80"
	ks_b = k32
	assert ks_a[0].key != ks_b.key
	# A -> B: protected with ka, B unprotects with sluice's _32 key
	sent = send_srtp(c, c.a, ka.tx(), c.a_dest())
	got = recv_all(c.b.rtp, timeout=2, count=len(sent))
	rx_b = ks_b.rx()
	assert sorted(rx_b.unprotect(d) for d, _ in got) == sorted(sent)
	# B -> A
	sent = send_srtp(c, c.b, kb.tx(), c.b_dest())
	got = recv_all(c.a.rtp, timeout=2, count=len(sent))
	rx_a = ks_a[0].rx()
	assert sorted(rx_a.unprotect(d) for d, _ in got) == sorted(sent)
	q = ok(c.query(), "query")
	assert media0(q, c.ftag)["crypto suite"] == "AES_CM_128_HMAC_SHA1_80"
	assert media0(q, c.ttag)["crypto suite"] == "AES_CM_128_HMAC_SHA1_32"
	c.close()


@pytest.mark.parametrize("suite_a,suite_b", [("AEAD_AES_128_GCM", "AEAD_AES_256_GCM"),
					     ("AEAD_AES_256_GCM", "AES_CM_128_HMAC_SHA1_32")])
def test_sdes_gcm_and_only_flag(relay, suite_a, suite_b):
	r = relay()
	c = Call(r)
	ka = SdesKey(suite_a)
	c.offer(sdp=sdp_with(c.a, "RTP/SAVPF", [ka.line()]),
		SDES=["only-" + suite_b, "only-" + suite_a])
	offered = crypto_lines(c.offer_reply)
	assert sorted(k.suite for k in offered) == sorted({suite_a, suite_b})
	kb_s = [k for k in offered if k.suite == suite_b][0]
	kb = SdesKey(suite_b, tag=kb_s.tag)
	c.answer(sdp=sdp_with(c.b, "RTP/SAVPF", [kb.line()]))
	ks_a = crypto_lines(c.answer_reply)[0]
	assert ks_a.suite == suite_a
	sent = send_srtp(c, c.a, ka.tx(), c.a_dest())
	got = recv_all(c.b.rtp, timeout=2, count=len(sent))
	assert sorted(kb_s.rx().unprotect(d) for d, _ in got) == sorted(sent)
	sent = send_srtp(c, c.b, kb.tx(), c.b_dest())
	got = recv_all(c.a.rtp, timeout=2, count=len(sent))
	assert sorted(ks_a.rx().unprotect(d) for d, _ in got) == sorted(sent)
	c.close()


def test_sdes_flags_filter_offer(relay):
	r = relay()
	c = Call(r)
	c.offer(**{"transport-protocol": "RTP/SAVP", "flags": ["SDES-no-AES_CM_128_HMAC_SHA1_32",
							      "SDES-no-AEAD_AES_256_GCM",
							      "SDES-no-NULL_HMAC_SHA1_32"]})
	assert c.offer_reply.medias[0]["proto"] == "RTP/SAVP"
	offered = crypto_lines(c.offer_reply)
	assert [k.suite for k in offered] == [s for s in ALL_SUITES if s not in (
		"AES_CM_128_HMAC_SHA1_32", "AEAD_AES_256_GCM", "NULL_HMAC_SHA1_32")]
	assert [k.tag for k in offered] == list(range(1, 10))
	# plain A, SRTP B: B's answer picks the GCM line
	gcm = [k for k in offered if k.suite == "AEAD_AES_128_GCM"][0]
	kb = SdesKey("AEAD_AES_128_GCM", tag=gcm.tag)
	c.answer(sdp=sdp_with(c.b, "RTP/SAVP", [kb.line()]))
	assert c.answer_reply.medias[0]["proto"] == "RTP/AVP"
	assert not c.answer_reply.attrs(0, "crypto")
	sent = send_plain(c.a, c.a_dest())
	got = recv_all(c.b.rtp, timeout=2, count=len(sent))
	rx = gcm.rx()
	assert sorted(rx.unprotect(d) for d, _ in got) == sorted(sent)
	# SDES-only: just those
	c3 = Call(r)
	c3.offer(**{"transport-protocol": "RTP/SAVP",
		    "SDES": ["only-F8_128_HMAC_SHA1_80", "only-AES_256_CM_HMAC_SHA1_32"]})
	assert [k.suite for k in crypto_lines(c3.offer_reply)] == \
		["AES_256_CM_HMAC_SHA1_32", "F8_128_HMAC_SHA1_80"]
	# SDES-off: DTLS only (as rtpengine); with DTLS=off as well an error, not an SDP
	# without keys
	c2 = Call(r)
	c2.offer(**{"transport-protocol": "RTP/SAVP", "flags": ["SDES-off"]})
	assert crypto_lines(c2.offer_reply) == []
	assert c2.offer_reply.attrs(0, "setup") == ["actpass"]
	assert len(c2.offer_reply.attrs(0, "fingerprint")) == 1
	c4 = Call(r)
	reason = err(c4.offer(check=False, **{"transport-protocol": "RTP/SAVP",
					     "flags": ["SDES-off"], "DTLS": "off"}), "SDES-off")
	assert "SDES" in reason
	for x in (c, c2, c3, c4):
		x.close()


@pytest.mark.parametrize("line", [
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ=",           # key too short
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:!!!notbase64!!!!!!!!!!!!!!!!!!!!!!!!",
	"a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz",
])
def test_sdes_bad_key_is_an_error(relay, line):
	r = relay()
	c = Call(r)
	reason = err(c.offer(sdp=sdp_with(c.a, "RTP/SAVP", [line]), check=False,
			     **{"transport-protocol": "RTP/AVP"}), "bad a=crypto")
	assert "crypto" in reason or "SDES" in reason
	assert r.ng.ping()
	c.close()


def test_sdes_no_acceptable_suite(relay):
	r = relay()
	c = Call(r)
	ka = SdesKey("AES_CM_128_HMAC_SHA1_32")
	reason = err(c.offer(sdp=sdp_with(c.a, "RTP/SAVP", [ka.line()]), check=False,
			     SDES=["no-AES_CM_128_HMAC_SHA1_32"], **{"transport-protocol": "RTP/AVP"}),
		     "no suite")
	assert "SDES" in reason
	c.close()


def test_plain_call_stays_plain(relay):
	"""A plain call gets no security keys in query and no a=crypto in SDP."""
	r = relay()
	c = Call(r).setup()
	assert not c.offer_reply.attrs(0, "crypto") and not c.answer_reply.attrs(0, "crypto")
	q = ok(c.query(), "query")
	assert "transport" not in media0(q, c.ftag)
	c.close()
