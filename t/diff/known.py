"""Differences from rtpengine that are known and documented in
docs/rtpengine-differences.md, in two kinds:

  deliberate  sluice does it differently on purpose (the document says why);
  gap         not the same yet (the document says what is missing).

Each entry: (kind, id, case-name predicate, transform of a normalized transcript).
A differing case is explained if applying the transforms of the matching entries to both
transcripts makes them equal. Transforms touch only the lines the difference is about,
so any other difference in the same case still shows; an entry whose transform is
`whole` excuses its cases entirely (used only for flags another part of issue 13
implements)."""

import re


def _drop(pattern):
	rx = re.compile(pattern)
	return lambda lines: [l for l in lines if not rx.search(l)]


def _sections(lines):
	"""Split a transcript into runs: each m= section is one run, other lines alone."""
	out, cur = [], None
	for l in lines:
		s = l.strip()
		if s.startswith("m="):
			cur = [l]
			out.append(cur)
		elif cur is not None and l.startswith("    ") and not s.startswith(("v=", "#")):
			cur.append(l)
		else:
			cur = None
			out.append([l])
	return out


def _per_section(fn):
	def apply(lines):
		res = []
		for sec in _sections(lines):
			res += fn(sec) if sec[0].strip().startswith("m=") else sec
		return res
	return apply


def _aead_session_params(sec):
	"""SDES session parameters (UNENCRYPTED_*, UNAUTHENTICATED_SRTP) on AEAD suites'
	a=crypto lines are not compared."""
	rx = re.compile(r" (UNENCRYPTED_SRTP|UNENCRYPTED_SRTCP|UNAUTHENTICATED_SRTP)\b")
	return [rx.sub("", l) if l.strip().startswith("a=crypto:") and " AEAD_" in l else l
		for l in sec]


def _codec_list(sec):
	"""The m= line's payload types and the a=rtpmap/a=fmtp lines are not compared."""
	m = sec[0].split(" ")[:3]
	return [" ".join(m)] + [l for l in sec[1:]
				if not l.strip().startswith(("a=rtpmap:", "a=fmtp:"))]


def whole(lines):
	return ["<excused>"]


def _names(*names):
	return lambda n: any(n.startswith(x) for x in names)


def _any(n):
	return True


KNOWN = [
	# a stream added after a side moved to the other family: rtpengine's SDP contradicts
	# itself (port of the old family, c= of the new one)
	("deliberate", "rebind-new-stream", _names("mixed/ice-force/addm"), whole),
	("deliberate", "ptime-answer", _names("baresip/ptime/"), whole),
	("deliberate", "no-empty-m-line", _names("phone/mask-pcmu/"), whole),
	("deliberate", "sdes-unenc-aead", _names("baresip/sdes-unenc/"),
	 _per_section(_aead_session_params)),
	# issue 13 part 4 (docs/ng.md, Flags)
	("deliberate", "ice-optional-with-ice", _names("webrtc/ice-optional/"), whole),
	("deliberate", "generate-rtcp-transcoded", _names("baresip/generate-rtcp/"),
	 _per_section(_codec_list)),
	# older flag differences outside issue 13 part 4 (docs/rtpengine-differences.md)
	("deliberate", "media-address", _names("baresip/media-address/", "phone/media-address/"),
	 whole),
	# rtpengine 10.5 has no SDES-only-; its later documentation says what sluice does
	("deliberate", "sdes-only", _names("baresip/sdes-only/"), _drop(r"^\s*a=crypto:")),
	# rtpengine 10.5's publish takes the first codec whatever strip says
	("deliberate", "publish-strip", lambda n: n.endswith("/strip-all-except/pub"),
	 _per_section(_codec_list)),
]


def explain(name, want, got):
	"""-> list of "kind:id" that explain the difference, or None."""
	used = []
	for kind, kid, pred, fn in KNOWN:
		if pred(name):
			w2, g2 = fn(want), fn(got)
			if (w2, g2) != (want, got):
				used.append("%s:%s" % (kind, kid))
			want, got = w2, g2
			if want == got:
				return used
	return None
