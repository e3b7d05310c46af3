"""The jitter buffer (--jitter-buffer=MS) on transcoded streams that are also SRTP: the
secure handler is then the streams' handler and must pass the buffer's playout timers
on to the transcoder (without that, the buffer only moved when the next packet came in,
and what it held when the input stopped never came out). SDES-SRTP PCMA on A's side
(A sends encrypted) or on B's side (B receives encrypted), plain PCMU on the other;
the same reordered, jittered tone as test_jitter_dtmf.py must come out in order."""

import pytest

from calls import Call, ok
from rtp import drain, recv_all, rtp_parse
from secure_peer import SdesKey
from test_jitter_dtmf import jittered_schedule, out_of_order, send_paced
from test_srtp_transcode import crypto_of, savp
from test_transcode import CODECS, check_stream, decode, encode, fit, rtp_stream, signal, te_sdp

pytestmark = pytest.mark.sluice_only


def srtp_sender(c):
	"""A offers SRTP PCMA, B answers plain PCMU: (A's tx session, B's rx session)."""
	ka = SdesKey()
	c.offer(sdp=savp(te_sdp(c.a, "PCMA", te=False), ka),
		codec={"mask": ["PCMA"], "transcode": ["PCMU"]}, **{"transport-protocol": "RTP/AVP"})
	assert not c.offer_reply.attrs(0, "crypto"), c.offer_reply.text
	c.answer(sdp=te_sdp(c.b, "PCMU", te=False))
	assert c.answer_reply.medias[0]["proto"] == "RTP/SAVP", c.answer_reply.text
	crypto_of(c.answer_reply)
	return ka.tx(), None


def srtp_receiver(c):
	"""A offers plain PCMA, B answers SRTP PCMU: (None, B's rx session)."""
	c.offer(sdp=te_sdp(c.a, "PCMA", te=False), codec={"mask": ["PCMA"], "transcode": ["PCMU"]},
		**{"transport-protocol": "RTP/SAVP", "SDES": ["only-AES_CM_128_HMAC_SHA1_80"]})
	ks = crypto_of(c.offer_reply)
	kb = SdesKey(ks.suite, tag=ks.tag)
	c.answer(sdp=savp(te_sdp(c.b, "PCMU", te=False), kb))
	assert c.answer_reply.medias[0]["proto"] == "RTP/AVP", c.answer_reply.text
	return None, ks.rx()


@pytest.mark.parametrize("setup", [srtp_sender, srtp_receiver], ids=["srtp-in", "srtp-out"])
def test_jitter_buffer_with_srtp(relay, setup):
	r = relay(jitter_buffer=100)
	c = Call(r)
	tx, rx = setup(c)
	pt, _, clock = CODECS["PCMA"]
	pkts = rtp_stream(c.a, pt, encode("PCMA", signal("tone", 8000, 3)), clock // 50)
	sched = jittered_schedule(pkts, 50, 0.10, seed=4733)
	n, ooo = len(pkts), out_of_order(sched)
	assert ooo >= n // 10, "only %d of %d packets out of order" % (ooo, n)
	if tx:
		sched = [(at, tx.protect(p)) for at, p in sched]
	drain(c.b.rtp)
	send_paced(c.a.rtp, c.a_dest(), sched)
	raw = [d for d, _ in recv_all(c.b.rtp, timeout=4, idle=0.7)]
	if rx:
		raw = [rx.unprotect(d) for d in raw]     # raises unless sluice's key protected it
	at_b = [p for p in map(rtp_parse, raw) if p]
	q = ok(c.query(), "query")
	ma = q["tags"][c.ftag]["medias"][0]
	st = ma["transcoder"]
	c.close()
	assert at_b, "nothing came out of the jitter buffer (timer not run?): %r" % st
	check_stream(at_b, 0, 160)
	assert n - 2 <= len(at_b) <= n + 2, "%d packets out for %d in" % (len(at_b), n)
	assert st["jitter late"] <= 3 and st["jitter lost"] <= 3, st
	assert st["packets in"] + st["jitter late"] == n, st
	if tx:
		assert ma["SRTP"]["unprotected"] == n, ma["SRTP"]
	snr, _, peak = fit(decode("PCMU", [p["payload"] for p in at_b]), 8000, (1004,),
			   start=0.5, secs=2)
	print("jitter buffer + %s: %d/%d out of order in, %d out, SNR %.1f dB, peak %.0f Hz"
	      % (setup.__name__, ooo, n, len(at_b), snr, peak))
	assert snr >= 25 and abs(peak - 1004) <= 5, "SNR %.1f dB, peak %.0f Hz" % (snr, peak)
