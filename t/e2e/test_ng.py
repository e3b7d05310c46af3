"""NG control protocol: cookies, encodings, errors, list/statistics, limits."""

import random
import threading
import time

import pytest

from calls import Call, call_id, err, exchange, ok, same, tag
from ng import bencode, decode_payload, new_cookie, split_reply
from rtp import SDP, Phone, recv_all

# error-reason strings of the reference (rtpengine 10.5) — documented, not required
# verbatim; tests check a keyword in them.
#   unknown call-id (query, answer)  "Unknown call-id"
#   delete of unknown call-id        result ok, warning "Call-ID not found or tags didn't match"
#   missing call-id                  "No call-id in message"
#   missing from-tag                 "No from-tag in message"
#   missing to-tag (answer)          "No to-tag in message"
#   missing / non-string sdp         "No SDP body in message"
#   unknown command                  "Unrecognized command"
#   no / non-string command          'Dictionary contains no key "command"'
#   payload neither dict nor JSON    "Invalid NG data format"
#   broken bencode                   "Could not decode bencode dictionary"
#   broken JSON                      "Failed to parse JSON document"
#   "cookie " with empty payload     "Invalid data (no payload)"
#   unparseable SDP                  "Failed to parse SDP" / "Incomplete SDP specification"
#   port range exhausted             "Ran out of ports"


def test_ping(relay):
	r = relay()
	ck = new_cookie()
	raw = r.ng.req_raw({"command": "ping"}, cookie=ck)
	assert raw == b"d6:result4:ponge"
	assert r.ng.last_raw == ck.encode() + b" d6:result4:ponge"


@pytest.mark.parametrize("msg,keyword", [
	({"command": "query", "call-id": "no-such-call", "from-tag": "x"}, "call-id"),
	({"command": "answer", "call-id": "no-such-call", "from-tag": "x", "to-tag": "y",
	  "sdp": None}, "call-id"),
	({"command": "offer", "from-tag": "x", "sdp": None}, "call-id"),
	({"command": "offer", "call-id": "c", "sdp": None}, "from-tag"),
	({"command": "offer", "call-id": "c", "from-tag": "x"}, "sdp"),
	({"command": "offer", "call-id": "c", "from-tag": "x", "sdp": 5}, "sdp"),
	({"command": "query"}, "call-id"),
	({"command": "delete"}, "call-id"),
	({"command": "no-such-command"}, "command"),
	({}, "command"),
	({"command": 5}, "command"),
], ids=["query-unknown-call", "answer-unknown-call", "no-call-id", "no-from-tag", "no-sdp",
	"sdp-int", "query-no-call-id", "delete-no-call-id", "unknown-command", "empty-dict",
	"command-int"])
def test_error_reasons(relay, msg, keyword):
	r = relay()
	p = Phone()
	msg = {k: (p.sdp() if k == "sdp" and v is None else v) for k, v in msg.items()}	# None: a valid SDP
	reason = err(r.ng.req(msg), msg.get("command"))
	assert keyword in reason.lower(), reason
	# the error left nothing behind
	assert ok(r.ng.req({"command": "list"}))["calls"] == []
	p.close()


@pytest.mark.sluice_only
def test_commands_not_here_yet(relay):
	"""rtpengine's 24 commands are all known: publish without SDP says what is missing
	(test_publish.py has the rest); nothing is created. play media and the subscription
	commands are known (an unknown call is their error)."""
	r = relay()
	reason = err(r.ng.req({"command": "publish", "call-id": "c1", "from-tag": "a"}))
	assert reason == "No SDP body in message", reason
	for cmd in ("play media", "stop media", "play-media", "subscribe request",
		    "subscribe answer", "unsubscribe"):
		reason = err(r.ng.req({"command": cmd, "call-id": "c1", "from-tag": "a"}), cmd)
		assert "Unknown call-id" in reason, (cmd, reason)
	assert "Unrecognized" in err(r.ng.req({"command": "play movie"}))
	assert ok(r.ng.req({"command": "list"}))["calls"] == []


def test_answer_missing_to_tag(relay):
	r = relay()
	c = Call(r)
	c.offer()
	m = c.base("answer", sdp=c.b.sdp())
	reason = err(r.ng.req(m), "answer without to-tag")
	assert "to-tag" in reason.lower()
	ok(c.delete())
	c.close()


def test_delete_unknown_call(relay):
	"""A second BYE / a delete for a gone call is not an error (rtpengine: ok + warning)."""
	r = relay()
	rep = ok(r.ng.req({"command": "delete", "call-id": "no-such-call", "from-tag": "x"}))
	assert rep.get("warning")


def test_cookie_retransmission(relay):
	"""Same cookie + same offer twice: byte-identical replies, executed once."""
	r = relay()
	c = Call(r)
	ck = new_cookie()
	msg = c.base("offer", sdp=c.a.sdp())
	r1 = r.ng.req_raw(msg, cookie=ck)
	raw1 = r.ng.last_raw
	r2 = r.ng.req_raw(msg, cookie=ck)
	assert r.ng.last_raw == raw1
	assert decode_payload(r1)["result"] == "ok"
	assert ok(r.ng.req({"command": "list"}))["calls"] == [c.cid]
	# a fresh cookie is a new transaction: a re-offer, same ports (tags unchanged)
	r3 = decode_payload(r.ng.req_raw(msg))
	assert r3["sdp"] == decode_payload(r1)["sdp"]
	# a following call gets its own ports; the retransmission consumed none
	c2 = Call(r)
	c2.offer()
	assert r2 == r1
	assert c2.offer_reply.port() != SDP(decode_payload(r1)["sdp"]).port()
	st = ok(r.ng.req({"command": "statistics"}))["statistics"]
	assert st["currentstatistics"]["sessionsown"] == 2
	c.close()
	c2.close()


def test_cookie_reuse_other_message(relay):
	"""A different message under a cookie whose offer was answered within 60 s gets the
	cached reply and is not executed (rtpengine's behaviour: the cache is keyed by
	cookie and source, not by content)."""
	r = relay()
	ck = new_cookie()
	c1, c2 = Call(r), Call(r)
	r.ng.req_raw(c1.base("offer", sdp=c1.a.sdp()), cookie=ck)
	first = r.ng.last_raw
	r.ng.req_raw(c2.base("offer", sdp=c2.a.sdp()), cookie=ck)
	assert r.ng.last_raw == first
	assert ok(r.ng.req({"command": "list"}))["calls"] == [c1.cid]
	c1.close()
	c2.close()


@pytest.mark.sluice_only
def test_read_only_replies_not_cached(relay):
	"""ping, query, list and statistics change nothing, so their replies are not kept for
	retransmissions: the same cookie again gets a fresh answer (and a message that does
	not decode gets its error again), leaving the cache to offer/answer/delete."""
	r = relay()
	c = Call(r)
	ck_list, ck_ping, ck_bad = new_cookie(), new_cookie(), new_cookie()
	assert ok(r.ng.req({"command": "list"}, cookie=ck_list))["calls"] == []
	c.offer()
	assert ok(r.ng.req({"command": "list"}, cookie=ck_list))["calls"] == [c.cid]
	# a ping's cookie reused for an offer: the offer runs
	assert r.ng.req({"command": "ping"}, cookie=ck_ping)["result"] == "pong"
	c2 = Call(r)
	ok(r.ng.req(c2.base("offer", sdp=c2.a.sdp()), cookie=ck_ping), "offer")
	assert sorted(ok(r.ng.req({"command": "list"}))["calls"]) == sorted([c.cid, c2.cid])
	for _ in range(2):
		reply = r.ng.raw(ck_bad.encode() + b" d7:command")
		assert reply.startswith(ck_bad.encode() + b" ")
		assert "decode" in err(decode_payload(split_reply(reply)[1]))
	ng = ok(r.ng.req({"command": "statistics"}))["statistics"]["ng"]
	assert ng["cacheentries"] == 2			# the two offers
	assert ng["cachehits"] == 0
	c.close()
	c2.close()


@pytest.mark.sluice_only
def test_cache_bound_evicts_oldest(relay):
	"""--ng-cache-max-entries=2: the third offer's reply pushes out the first one. A
	retransmission of the newest is answered from the cache (identical bytes, counted as
	a hit); one of the evicted offer is executed again: a re-offer of the same call and
	tags, which keeps its ports and creates nothing new."""
	r = relay(ng_cache_max_entries=2)
	calls = [Call(r) for _ in range(3)]
	cks = [new_cookie() for _ in calls]
	raws = []
	for c, ck in zip(calls, cks):
		r.ng.req_raw(c.base("offer", sdp=c.a.sdp()), cookie=ck)
		raws.append(r.ng.last_raw)
	ng = ok(r.ng.req({"command": "statistics"}))["statistics"]["ng"]
	assert (ng["cacheentries"], ng["cacheevictions"], ng["cachehits"]) == (2, 1, 0)
	# kept packed: two offer replies with their bookkeeping in fewer bytes than the replies
	assert 0 < ng["cachebytes"] < ng["cachereplybytes"] == sum(len(x) for x in raws[1:])
	r.ng.req_raw(calls[2].base("offer", sdp=calls[2].a.sdp()), cookie=cks[2])
	assert r.ng.last_raw == raws[2]
	again = decode_payload(r.ng.req_raw(calls[0].base("offer", sdp=calls[0].a.sdp()),
					    cookie=cks[0]))
	assert SDP(ok(again)["sdp"]).port() == SDP(decode_payload(split_reply(raws[0])[1])["sdp"]).port()
	ng = ok(r.ng.req({"command": "statistics"}))["statistics"]["ng"]
	assert (ng["cacheentries"], ng["cacheevictions"], ng["cachehits"]) == (2, 2, 1)
	assert sorted(ok(r.ng.req({"command": "list"}))["calls"]) == sorted(c.cid for c in calls)
	for c in calls:
		c.close()


@pytest.mark.parametrize("use_json", [False, True], ids=["bencode", "json"])
def test_encodings_every_command(relay, use_json):
	"""Every command is answered in the encoding it was asked in, under its cookie."""
	r = relay()
	c = Call(r)
	first = b"{" if use_json else b"d"

	def req(msg):
		ck = new_cookie()
		payload = r.ng.req_raw(msg, cookie=ck, json=use_json)
		rck, pl = split_reply(r.ng.last_raw)
		assert rck == ck
		assert pl[:1] == first, (msg["command"], pl[:80])
		return decode_payload(pl)

	assert req({"command": "ping"})["result"] == "pong"
	o = ok(req(c.base("offer", sdp=c.a.sdp())), "offer")
	assert "m=audio " in o["sdp"]
	a = ok(req(dict(c.base("answer", sdp=c.b.sdp()), **{"to-tag": c.ttag})), "answer")
	assert "m=audio " in a["sdp"]
	q = ok(req(c.base("query")), "query")
	assert set(q["tags"]) == {c.ftag, c.ttag}
	assert ok(req({"command": "list"}), "list")["calls"] == [c.cid]
	s = ok(req({"command": "statistics"}), "statistics")
	assert s["statistics"]["currentstatistics"]["sessionsown"] == 1
	d = ok(req(c.base("delete")), "delete")
	assert "totals" in d
	e = req({"command": "query", "call-id": c.cid, "from-tag": c.ftag})
	assert e["result"] == "error" and e["error-reason"]
	c.close()


def test_list_and_statistics(relay):
	r = relay()
	calls = [Call(r).setup() for _ in range(3)]
	lst = ok(r.ng.req({"command": "list"}))
	assert sorted(lst["calls"]) == sorted(c.cid for c in calls)
	st = ok(r.ng.req({"command": "statistics"}))["statistics"]
	cur, tot = st["currentstatistics"], st["totalstatistics"]
	assert cur["sessionsown"] == 3
	assert cur["sessionstotal"] == 3
	assert cur["sessionsforeign"] == 0
	assert tot["managedsessions"] == 0		# counts ended calls
	assert tot["relayedpackets"] == 0
	ifs = [i for i in st["interfaces"] if i["address"] == "127.0.0.1"]
	assert len(ifs) == 1
	ports = ifs[0]["ports"]
	assert (ports["min"], ports["max"]) == (r.port_min, r.port_max)
	assert ports["totals"] == r.port_max - r.port_min + 1
	assert ports["used"] + ports["free"] == ports["totals"]
	assert ports["used"] >= 3 * 4			# 3 calls, RTP+RTCP on both sides

	res = exchange(calls[0], n=20, pps=0)
	assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
	st = ok(r.ng.req({"command": "statistics"}))["statistics"]
	assert st["totalstatistics"]["relayedpackets"] == 40
	assert st["totalstatistics"]["relayedbytes"] == sum(map(len, res["sent_a"] + res["sent_b"]))

	ok(calls[0].delete())
	lst = ok(r.ng.req({"command": "list"}))
	assert sorted(lst["calls"]) == sorted(c.cid for c in calls[1:])
	st = ok(r.ng.req({"command": "statistics"}))["statistics"]
	assert st["currentstatistics"]["sessionsown"] == 2
	assert st["totalstatistics"]["managedsessions"] == 1
	assert st["totalstatistics"]["regularterminatedsessions"] == 1
	for c in calls[1:]:
		ok(c.delete())
	st = ok(r.ng.req({"command": "statistics"}))["statistics"]
	assert st["currentstatistics"]["sessionsown"] == 0
	assert [i for i in st["interfaces"] if i["address"] == "127.0.0.1"][0]["ports"]["used"] == 0
	assert ok(r.ng.req({"command": "list"}))["calls"] == []
	for c in calls:
		c.close()


def test_port_exhaustion(relay):
	r = relay(ports=8)
	live, reason = [], None
	for _ in range(10):
		c = Call(r)
		o = c.offer(check=False)
		if o["result"] == "ok":
			a = c.answer(check=False)
			if a["result"] == "ok":
				live.append(c)
				continue
			reason = err(a, "answer")
		else:
			reason = err(o, "offer")
		c.close()
		break
	assert reason is not None, "8 ports never ran out"
	assert "port" in reason.lower(), reason
	assert 1 <= len(live) <= 2
	assert sorted(ok(r.ng.req({"command": "list"}))["calls"]) == sorted(c.cid for c in live)
	# the established calls are unaffected
	res = exchange(live[0], n=10, pps=0)
	assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
	# freeing a call makes room again (rtpengine frees closed sockets from its main loop, a
	# moment after the delete: allow a few retries)
	ok(live[0].delete())
	c = Call(r)
	for _ in range(30):
		if c.offer(check=False)["result"] == "ok":
			break
		time.sleep(0.1)
	assert c.offer_reply is not None, "no offer accepted after a call was deleted"
	c.answer()
	res = exchange(c, n=10, pps=0)
	assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
	for x in live + [c]:
		x.close()


def test_timeout(relay):
	r = relay(timeout=2)
	c = Call(r).setup()
	other = Call(r).setup()
	res = exchange(c, n=10, pps=0)
	assert same(res["got_b"], res["sent_a"])
	t0 = time.monotonic()
	# keep the other call alive with media while the first one starves
	gone = None
	while time.monotonic() - t0 < 6:
		other.a.send_rtp(other.a_dest(), n=1, pps=0)
		other.b.send_rtp(other.b_dest(), n=1, pps=0)
		if gone is None and c.query()["result"] == "error":
			gone = time.monotonic() - t0
			break
		time.sleep(0.1)
	assert gone is not None, "call with stopped media not timed out after 6 s"
	assert gone >= 1.0
	lst = ok(r.ng.req({"command": "list"}))["calls"]
	assert c.cid not in lst and other.cid in lst
	st = ok(r.ng.req({"command": "statistics"}))["statistics"]
	assert st["totalstatistics"]["timeoutsessions"] == 1
	log = r.log()
	assert any(c.cid in l and "timeout" in l.lower() for l in log.splitlines()), \
		"no log line with call-id and 'timeout'"
	c.close()
	other.close()


# --------------------------------------------------------------------- malformed storm

def _offer_msg(cid, ftag, sdp):
	return {"command": "offer", "call-id": cid, "from-tag": ftag, "sdp": sdp}


BAD_SDPS = [
	"hello world", "\x00\x01\x02", "v=0\r\nm=audio 5 RTP/AVP 0\r\n",
	"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 5 RTP/AVP 0\r\n",
	"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 99999 RTP/AVP 0\r\n",
	"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio abc RTP/AVP 0\r\n",
	"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP9 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
	"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
]


def malformed_payloads(rng, live):
	"""Endless (category, payload bytes) of NG payloads that must each get an error."""
	sdp = Phone.sdp.__get__(type("P", (), dict(port=4000, host="127.0.0.1", name="x", ssrc=1,
						   sess_id=1, sess_ver=1)))()
	full = bencode(_offer_msg("trunc-call", "trunc-tag", sdp))
	cats = []

	def cat(fn):
		cats.append(fn)
		return fn

	@cat
	def random_bytes():
		b = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300)))
		while b[:1] in (b"d", b"{", b" ", b""):
			b = bytes([rng.randint(0x21, 0x7a)]) + b[1:]
		return b

	@cat
	def random_after_d():
		return b"d" + bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 100)))

	@cat
	def truncated_bencode():
		return full[:rng.randint(1, len(full) - 2)]

	@cat
	def wrong_types():
		choices = [
			dict(_offer_msg("wt", "t", sdp), sdp=rng.randint(0, 10**6)),
			dict(_offer_msg("wt", "t", sdp), sdp=[sdp]),
			dict(_offer_msg("wt", "t", sdp), sdp={"a": sdp}),
			dict(_offer_msg("wt", "t", sdp), **{"call-id": rng.randint(0, 99)}),
			dict(_offer_msg("wt", "t", sdp), **{"call-id": ["wt"]}),
			dict(_offer_msg("wt", "t", sdp), **{"from-tag": {"x": 1}}),
			dict(_offer_msg("wt", "t", sdp), command=["offer"]),
			dict(_offer_msg("wt", "t", sdp), command=7),
			{"command": "answer", "call-id": live.cid, "from-tag": live.ftag, "to-tag": 5,
			 "sdp": sdp},
		]
		return bencode(rng.choice(choices))

	@cat
	def missing_fields():
		m = _offer_msg("mf-" + tag(), "t", sdp)
		del m[rng.choice(["call-id", "from-tag", "sdp"])]
		return bencode(m)

	@cat
	def unknown_command():
		return bencode({"command": rng.choice(["foo", "OFFER ", "", "offerx", "pong", "x" * 300]),
				"call-id": "uc"})

	@cat
	def not_a_dict():
		return rng.choice([b"l4:pinge", b"i5e", b"4:ping", b"le", b"i-1e", b"[1,2]", b"\"ping\""])

	@cat
	def bad_json():
		return rng.choice([b'{"command":', b'{"command":"ping"', b'{"command":"ping"}xx',
				   b'{command:ping}', b'{"command":5}', b'{}', b'{"command":["ping"]}',
				   b'{"command":"offer","call-id":"j","from-tag":"t","sdp":5}',
				   b'{"command":"offer","call-id":"j","from-tag":"t"}',
				   b'{"command":"query","call-id":"no-such"}', b"{\xff\xfe}"])

	@cat
	def bad_sdp():
		return bencode(_offer_msg("bs-" + tag(), "t", rng.choice(BAD_SDPS)))

	@cat
	def bad_sdp_live_call():
		# a broken re-INVITE of the live call must fail and leave the call alone
		return bencode(_offer_msg(live.cid, live.ftag, rng.choice(BAD_SDPS)))

	@cat
	def unknown_call():
		m = rng.choice([{"command": "query", "call-id": "nx-" + tag(), "from-tag": "t"},
				{"command": "answer", "call-id": "nx-" + tag(), "from-tag": "t",
				 "to-tag": "u", "sdp": sdp}])
		return bencode(m)

	n = 0
	while True:
		n += 1
		if n % 100 == 0:
			# near the UDP limit: an offer with 64 KB of junk SDP
			junk = "".join(rng.choice("abcdef0123") for _ in range(64000))
			yield "huge", bencode(_offer_msg("huge", "t", BAD_SDPS[5] + "a=x:" + junk + "\r\n"))
			continue
		fn = rng.choice(cats)
		yield fn.__name__, fn()


def test_malformed_storm(relay):
	r = relay()
	live = Call(r).setup()
	sent, stop = [], threading.Event()

	def talk():
		while not stop.is_set():
			sent.append(live.a.send_rtp(live.a_dest(), n=1, pps=0)[0])
			time.sleep(0.002)

	th = threading.Thread(target=talk)
	th.start()
	rng = random.Random(20261122)
	bad = []
	try:
		gen = malformed_payloads(rng, live)
		for i in range(1000):
			what, payload = next(gen)
			ck = new_cookie().encode()
			reply = r.ng.raw(ck + b" " + payload, timeout=2)
			if reply is None:
				bad.append((what, payload[:80], "no reply"))
				continue
			rck, pl = split_reply(reply)
			try:
				d = decode_payload(pl)
			except Exception as e:
				bad.append((what, payload[:80], "undecodable reply %r" % reply[:80]))
				continue
			if rck != ck.decode() or d.get("result") != "error" or not d.get("error-reason"):
				bad.append((what, payload[:80], d))
	finally:
		stop.set()
		th.join()
	assert bad == [], "%d bad answers, first: %r" % (len(bad), bad[:5])
	assert r.alive()
	got = recv_all(live.b.rtp, timeout=2, count=len(sent))
	assert len(sent) >= 10
	assert same(got, sent)
	# still in business
	assert r.ng.ping()
	res = exchange(live, n=10, pps=0)
	assert same(res["got_b"], res["sent_a"]) and same(res["got_a"], res["sent_b"])
	assert ok(r.ng.req({"command": "list"}))["calls"] == [live.cid]
	live.close()


def test_no_cookie_no_reply(relay):
	"""A datagram without 'cookie SP' cannot be answered: no reply, no harm."""
	r = relay()
	for m in [b"abc", b"d7:command4:pinge", b"\x00\x01\x02", b"x" * 1000]:
		r.ng.send_raw(m)
	assert r.ng.recv_raw(timeout=0.5) is None
	assert r.ng.ping()


def test_cookie_empty_payload(relay):
	r = relay()
	ck = new_cookie().encode()
	reply = r.ng.raw(ck + b" ")
	rck, pl = split_reply(reply)
	assert rck == ck.decode()
	d = decode_payload(pl)
	assert d["result"] == "error" and d["error-reason"]


@pytest.mark.sluice_only
@pytest.mark.parametrize("extra", [{"flags": "trust-address"}, {"sdp": ""}, {"sdp": "v=0\r\n"}],
			 ids=["flags-string", "empty-sdp", "sdp-v-only"])
def test_strict_types(relay, extra):
	"""sluiced rejects what rtpengine lets through: flags not a list, empty/trivial SDP.
	No call may be left behind."""
	r = relay()
	c = Call(r)
	m = c.base("offer", sdp=c.a.sdp())
	m.update(extra)
	err(r.ng.req(m), "offer %r" % extra)
	assert ok(r.ng.req({"command": "list"}))["calls"] == []
	c.close()


@pytest.mark.sluice_only
def test_silent_and_final_timeout(relay):
	"""A held call (sendonly) outlives --timeout but not --silent-timeout; any call ends at
	--final-timeout even with media flowing."""
	r = relay(timeout=1, silent_timeout=3, final_timeout=4)
	held = Call(r)
	held.offer(sdp=held.a.sdp(direction="sendonly"))
	held.answer(sdp=held.b.sdp(direction="recvonly"))
	busy = Call(r).setup()
	t0 = time.monotonic()
	held_gone = busy_gone = None
	while time.monotonic() - t0 < 7 and (held_gone is None or busy_gone is None):
		if busy_gone is None:
			busy.a.send_rtp(busy.a_dest(), n=1, pps=0)
			busy.b.send_rtp(busy.b_dest(), n=1, pps=0)
		if held_gone is None and held.query()["result"] == "error":
			held_gone = time.monotonic() - t0
		if busy_gone is None and busy.query()["result"] == "error":
			busy_gone = time.monotonic() - t0
		time.sleep(0.1)
	assert held_gone is not None and 2.0 <= held_gone <= 5.0, held_gone
	assert busy_gone is not None and 3.0 <= busy_gone <= 6.0, busy_gone
	tot = ok(r.ng.req({"command": "statistics"}))["statistics"]["totalstatistics"]
	assert tot["silenttimeoutsessions"] == 1 and tot["finaltimeoutsessions"] == 1
	assert tot["timeoutsessions"] == 0
	held.close()
	busy.close()
