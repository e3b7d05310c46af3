"""play media on hold, against sluiced and rtpengine alike: A holds B (a=sendonly, B
answers recvonly) and sends nothing. Played to B, the announcement plays all the same,
on the relay's own clock: one stream of 20 ms PCMU packets that B decodes as the
1 kHz tone. Played to A, who takes no media, it is refused (rtpengine 10.5: "Failed to
start media playback from file"). rtpengine sends 49 packets for 1 s, sluiced the 50
the duration holds."""

from calls import Call, err, ok
from conftest import TARGET
from test_play_media import is_tone, one_stream, play, timed, wav
from test_transcode import decode


def test_on_hold(relay, tmp_path):
	r = relay()
	c = Call(r)
	c.offer(sdp=c.a.sdp(direction="sendonly"))
	c.answer(sdp=c.b.sdp(direction="recvonly"))
	f = wav(tmp_path / "moh.wav", 1.0)
	err(play(c, c.ftag, file=f), "play media to a party on sendonly")
	assert ok(play(c, c.ttag, file=f))["duration"] == 1000
	pk = [p for _, p in timed(c.b.rtp)]
	assert len(pk) == 50 if TARGET == "sluiced" else len(pk) in (49, 50), len(pk)
	one_stream(pk, 0, 160)
	is_tone(decode("PCMU", [p["payload"] for p in pk]), 8000, 0.8)
	ok(c.delete())
	c.close()
