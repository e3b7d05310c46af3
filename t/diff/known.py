"""Differences from rtpengine that are deliberate (docs/rtpengine-differences.md).

Each entry: (id, case-name predicate, transform of a normalized transcript line list).
A differing case is "documented" if applying the transforms of the entries whose
predicate matches to both transcripts makes them equal. Transforms remove or rewrite
only the lines the documented difference is about, so any other difference still
shows."""

KNOWN = []


def explain(name, want, got):
	used = []
	for kid, pred, fn in KNOWN:
		if pred(name):
			want, got = fn(want), fn(got)
			used.append(kid)
			if want == got:
				return used
	return None
