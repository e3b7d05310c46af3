"""Trickle ICE (RFC 8838/8840) and consent freshness (RFC 7675) in sluiced.

- a=ice-options:trickle goes back toward a side whose offer said it (as rtpengine does:
  media level, with a=end-of-candidates after sluice's complete candidate list);
- an offer with the flag "fragment" carries an SDP fragment of candidates for the side
  named by from-tag: added to that side's ICE agent (matched by a=mid, else m= order,
  stale ufrag ignored), reply {"result": "ok"} without SDP;
- as full agent (toward an ICE-lite peer) candidates trickled after the checks started
  are checked and can win; after selection sluiced keeps checking consent every ~5 s,
  and 30 s without a response makes the agent "disconnected" until one comes."""

import socket
import time

import pytest

from calls import Call, err, ok, wait_for
from rtp import drain, recv_all
from secure_peer import stun_check_integrity, stun_parse, stun_success

pytestmark = pytest.mark.sluice_only

A_UFRAG, A_PWD = "Fq4z", "mQ9ZbXmS8nE2cYzKpJ0Qe7Lx"      # rtp.Phone.sdp(ice=True)
B_UFRAG, B_PWD = "Blte", "bbbbbbbbbbbbbbbbbbbbbbbb"


def media0(reply, tag_):
	return reply["tags"][tag_]["medias"][0]


def trickle_sdp(phone, where="media", mid=True):
	sdp = phone.sdp(ice=True)
	if mid:
		sdp = sdp.replace("a=label:1\r\n", "a=label:1\r\na=mid:a0\r\n")
	if where == "media":
		return sdp.replace("a=ice-ufrag:", "a=ice-options:trickle\r\na=ice-ufrag:")
	if where == "session":
		return sdp.replace("t=0 0\r\n", "t=0 0\r\na=ice-options:trickle renomination\r\n")
	return sdp


def fragment(c, sdp, from_tag=None, cid=None, command="offer", **kw):
	m = {"command": command, "call-id": cid or c.cid, "from-tag": from_tag or c.ftag,
	     "sdp": sdp, "flags": ["fragment"]}
	m.update(kw)
	return c.ng.req(m)


def cand(port, foundation=7, comp=1, host="127.0.0.1", typ="host", proto="UDP"):
	return "a=candidate:%d %d %s 1694498815 %s %d typ %s\r\n" % (foundation, comp, proto,
								     host, port, typ)


def remote_cands(c, tag_):
	return media0(ok(c.query()), tag_)["ICE"]["remote candidates"]


@pytest.mark.parametrize("where", ["media", "session", None])
def test_ice_options_trickle(relay, where):
	r = relay()
	c = Call(r)
	c.offer(sdp=trickle_sdp(c.a, where))
	c.answer()
	o, a = c.offer_reply, c.answer_reply
	# toward B: sluice's own candidates, no trickle (B said nothing)
	assert not o.attrs(0, "ice-options") and not o.attrs(None, "ice-options"), o.text
	# toward A, the side that said trickle: said back at media level, once
	want = ["trickle"] if where else []
	assert a.attrs(0, "ice-options") == want, a.text
	assert not a.attrs(None, "ice-options"), a.text
	# a=end-of-candidates only toward a side that trickles, as rtpengine
	assert a.attrs(0, "end-of-candidates") == ([""] if where else []), a.text
	assert "renomination" not in a.text
	c.close()


def test_fragment_adds_candidates(relay):
	r = relay()
	c = Call(r)
	c.offer(sdp=trickle_sdp(c.a))
	c.answer()
	assert remote_cands(c, c.ftag) == 3
	# by a=mid, with the session ufrag; a TCP candidate is skipped
	frag = ("a=ice-ufrag:%s\r\na=ice-pwd:%s\r\nm=audio 9 RTP/AVP 0\r\na=mid:a0\r\n" % (A_UFRAG, A_PWD)
		+ cand(40000) + cand(9, 8, proto="TCP") + "a=end-of-candidates\r\n")
	rep = fragment(c, frag)
	assert rep == {"result": "ok"}, rep
	assert remote_cands(c, c.ftag) == 4
	# the same again: duplicates are not added twice
	assert fragment(c, frag) == {"result": "ok"}
	assert remote_cands(c, c.ftag) == 4
	# by m= position, no ufrag at all (taken as current); LF line ends
	rep = fragment(c, "m=audio 9 RTP/AVP 0\n" + cand(40002, 9).replace("\r\n", "\n"))
	assert rep == {"result": "ok"}, rep
	assert remote_cands(c, c.ftag) == 5
	# a stale ufrag (section level beats session level): ignored, with a warning
	rep = fragment(c, "a=ice-ufrag:%s\r\na=mid:a0\r\na=ice-ufrag:old1\r\n%s" % (A_UFRAG, cand(40004)))
	assert ok(rep)["warning"].endswith("stale ICE ufrag"), rep
	assert "sdp" not in rep
	# an unknown mid: ignored, with a warning (rtpengine logs it and says ok)
	rep = fragment(c, "a=mid:zz\r\n" + cand(40006))
	assert "unknown media ID" in ok(rep)["warning"], rep
	# B's side has no ICE (B's answer had none)
	rep = fragment(c, "a=mid:a0\r\n" + cand(40008), from_tag=c.ttag)
	assert "without ICE" in ok(rep)["warning"], rep
	assert remote_cands(c, c.ftag) == 5
	# the empty fragment is fine
	assert fragment(c, "") == {"result": "ok"}
	# an unknown call or tag: held (as rtpengine does), see test_fragment_before_offer
	assert "held" in ok(fragment(c, frag, cid=c.cid + "x"))["warning"]
	assert "held" in ok(fragment(c, frag, from_tag="nobody"))["warning"]
	# errors: not a fragment (even for an unknown call), no SDP at all
	assert err(fragment(c, "hello world")).startswith("Failed to parse SDP fragment")
	assert err(fragment(c, "hello world", cid=c.cid + "y")).startswith(
		"Failed to parse SDP fragment")
	m = {"command": "offer", "call-id": c.cid, "from-tag": c.ftag, "flags": ["fragment"]}
	assert err(c.ng.req(m)) == "No SDP body in message"
	assert remote_cands(c, c.ftag) == 5
	assert "trickle ICE: 1 candidate(s) added, 1 skipped" in r.log()
	c.close()


def test_fragment_before_offer(relay):
	"""Candidates trickled before the offer reached sluiced (the INFO overtook the
	INVITE) are held and fed to the agent the offer makes; for a deleted call (kept for
	delete-delay) they are refused."""
	r = relay(delete_delay=5)
	c = Call(r)
	rep = fragment(c, "a=ice-ufrag:%s\r\na=mid:a0\r\n%s%s" % (A_UFRAG, cand(41000),
								  cand(41002, 8)))
	assert "held" in ok(rep)["warning"] and "sdp" not in rep, rep
	# a held fragment for another call is not applied to this one
	ok(fragment(c, "a=mid:a0\r\n" + cand(41004, 9), cid=c.cid + "-other"))
	plain = Call(r)                 # the same SDP without held candidates
	plain.offer(sdp=trickle_sdp(plain.a))
	base = remote_cands(plain, plain.ftag)
	plain.close()
	c.offer(sdp=trickle_sdp(c.a))
	c.answer()
	assert remote_cands(c, c.ftag) == base + 2, (base, remote_cands(c, c.ftag))
	assert "trickle ICE: 2 candidate(s) added" in r.log()
	# applied once only
	c.offer(sdp=trickle_sdp(c.a))
	assert remote_cands(c, c.ftag) == base + 2
	ok(c.delete())
	assert err(fragment(c, cand(41006))) == "Unknown call-id"
	c.close()


def dead_port():
	s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	s.bind(("127.0.0.1", 0))
	port = s.getsockname()[1]
	s.close()
	return port


def checks(sock, secs, answer=True, upto=None):
	"""Binding requests sluiced sends to sock for secs (answered if answer): list of
	(time, parsed request)."""
	out = []
	deadline = time.monotonic() + secs
	while time.monotonic() < deadline and (upto is None or len(out) < upto):
		got = recv_all(sock, timeout=min(0.5, max(0.01, deadline - time.monotonic())), count=1)
		if not got:
			continue
		data, addr = got[0]
		msg = stun_parse(data)
		if not msg or msg["type"] != 0x0001:
			continue
		assert stun_check_integrity(data, B_PWD)
		out.append((time.monotonic(), msg))
		if answer:
			sock.sendto(stun_success(msg, B_PWD, addr), addr)
	return out


def test_full_trickle_then_consent(relay):
	"""B is ICE-lite: sluiced is full and controlling toward B. B's SDP candidate is
	dead; the one B trickles later is checked and nominated. Then sluiced checks
	consent on it every 4-6 s; when B stops answering, 30 s after the last answer the
	agent is "disconnected" (logged); B's next answer brings it back."""
	r = relay()
	c = Call(r)
	c.offer(ICE="force", **{"rtcp-mux": ["require"]})
	uf_s = c.offer_reply.attrs(0, "ice-ufrag")[0]
	b_sdp = c.b.sdp().rstrip("\r\n") + "\r\n" + "\r\n".join([
		"a=rtcp-mux", "a=ice-lite", "a=ice-ufrag:" + B_UFRAG, "a=ice-pwd:" + B_PWD,
		"a=candidate:1 1 UDP 2130706431 127.0.0.1 %d typ host" % dead_port()]) + "\r\n"
	c.answer(sdp=b_sdp)
	time.sleep(0.5)
	ice = media0(ok(c.query()), c.ttag)["ICE"]
	assert ice["mode"] == "controlling" and ice["state"] == "checking", ice
	assert recv_all(c.b.rtp, timeout=0.2) == []
	# B trickles its real candidate (from B's side: from-tag is B's tag)
	rep = fragment(c, "a=ice-ufrag:%s\r\nm=audio 9 RTP/AVP 0\r\n%s" % (B_UFRAG, cand(c.b.port)),
		       from_tag=c.ttag)
	assert rep == {"result": "ok"}, rep
	seen = []
	deadline = time.monotonic() + 4
	while time.monotonic() < deadline and not (seen and 0x0025 in seen[-1][1]["attrs"]):
		seen += checks(c.b.rtp, 0.5, upto=1)
	assert seen and 0x0025 in seen[-1][1]["attrs"], "no nomination: %r" % seen
	assert seen[0][1]["attrs"][0x0006] == ("%s:%s" % (B_UFRAG, uf_s)).encode()
	t_sel = seen[-1][0]
	done = lambda: media0(ok(c.query()), c.ttag)["ICE"]["state"] == "completed"  # noqa: E731
	assert wait_for(done, 2)
	ice = media0(ok(c.query()), c.ttag)["ICE"]
	assert ice["selected port"] == c.b.port, ice
	# consent: B stops answering; checks keep coming 4-6 s apart
	lost = checks(c.b.rtp, 31.0, answer=False)
	times = [t_sel] + [t for t, _ in lost]
	gaps = [b - a for a, b in zip(times, times[1:])]
	assert len(lost) >= 2 and all(3.9 <= g <= 6.3 for g in gaps), gaps
	assert all(0x0025 not in m["attrs"] and 0x802A in m["attrs"] for _, m in lost)
	ice = media0(ok(c.query()), c.ttag)["ICE"]
	assert ice["state"] == "disconnected", (ice, gaps)
	assert ice["consent lost"] == 1 and ice["consent checks"] >= len(lost), ice
	assert "consent lost" in r.log()
	# without consent no media goes to B (RFC 7675), only the checks
	for _ in range(10):
		c.a.rtp.sendto(c.a.next_rtp(), c.a_dest())
	got = [d for d, _ in recv_all(c.b.rtp, timeout=0.5)]
	assert not [d for d in got if d[0] >> 6 == 2], "media sent without consent"
	ice = media0(ok(c.query()), c.ttag)["ICE"]
	assert ice["withheld without consent"] == 10, ice
	# B answers again: completed, and media flows again
	back = checks(c.b.rtp, 6.5, upto=1)
	assert back, "consent checks stopped after consent was lost"
	assert wait_for(done, 2), media0(ok(c.query()), c.ttag)["ICE"]
	drain(c.b.rtp)
	sent = [c.a.next_rtp() for _ in range(10)]
	for p in sent:
		c.a.rtp.sendto(p, c.a_dest())
	got = [d for d, _ in recv_all(c.b.rtp, timeout=2, count=10) if d[0] >> 6 == 2]
	assert got == sent
	c.close()
