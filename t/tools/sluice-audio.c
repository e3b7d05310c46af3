/* Test helper: encode, decode and DTMF with the same libraries sluiced uses, for the
 * Python e2e tests. PCM is signed 16-bit little-endian mono; frames are a 2-byte
 * big-endian length followed by the payload.
 *
 *   sluice-audio rate CODEC                 PCM rate the tool uses for CODEC
 *   sluice-audio encode CODEC PTIME [FMTP]  PCM on stdin -> frames on stdout
 *   sluice-audio decode CODEC [FMTP]        frames on stdin -> PCM on stdout
 *   sluice-audio dtmf-gen DIGITS ON OFF DBM 8 kHz tones (ms on/off, level -dBm0)
 *   sluice-audio dtmf-detect                8 kHz PCM on stdin -> digits on stdout
 *
 *   sluice-audio available CODEC            exit 0 if this libavcodec has it, else 3
 *                                           and the reason on stdout
 *
 * CODEC: PCMU, PCMA, G722, opus, G729 (G729 without annex B unless FMTP says so), GSM,
 * speex[/8000|/16000|/32000], G723, L16[/8000|/16000|/44100|/48000], AMR, AMR-WB (RFC 4867
 * bandwidth-efficient unless FMTP says octet-align=1), iLBC where available. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spandsp.h>

#include "sluice/codec.h"

/* "speex/16000" picks one clock rate of a codec that has several. */
static const struct codec_def *def_of(const char *name)
{
	const char *slash = strchr(name, '/');
	size_t len = slash ? (size_t)(slash - name) : strlen(name);
	const struct codec_def *d = codec_find(name, len, slash ? (unsigned)atoi(slash + 1) : 0, 0);
	const char *why;

	if (!d || !d->ops) {
		fprintf(stderr, "unknown codec %s\n", name);
		exit(2);
	}
	if (!codec_available(d, &why)) {
		fprintf(stderr, "codec %s unavailable: %s\n", name, why);
		exit(3);
	}
	return d;
}

static void params_of(const struct codec_def *d, const char *fmtp, struct codec_params *p)
{
	codec_params_default(d, p);
	p->annexb = false;
	p->fec = true;
	if (fmtp && codec_fmtp_parse(d, fmtp, strlen(fmtp), p)) {
		fprintf(stderr, "bad fmtp %s\n", fmtp);
		exit(2);
	}
}

static int encode(const char *name, unsigned ptime, const char *fmtp)
{
	const struct codec_def *d = def_of(name);
	struct codec_params p;
	struct codec_enc *e;
	unsigned frame = d->sample_rate * ptime / 1000;
	int16_t pcm[CODEC_MAX_DECODE];
	uint8_t out[CODEC_MAX_PAYLOAD + 2];

	params_of(d, fmtp, &p);
	if (frame > CODEC_MAX_DECODE || codec_enc_create(d, &p, &e)) {
		fprintf(stderr, "cannot create %s encoder for %u ms\n", name, ptime);
		return 1;
	}
	while (fread(pcm, sizeof(pcm[0]), frame, stdin) == frame) {
		int n = codec_encode(e, pcm, frame, out + 2, CODEC_MAX_PAYLOAD);

		if (n < 0) {
			fprintf(stderr, "encode: %d\n", n);
			return 1;
		}
		out[0] = (uint8_t)(n >> 8);
		out[1] = (uint8_t)n;
		fwrite(out, 1, (size_t)n + 2, stdout);
	}
	codec_enc_destroy(e);
	return 0;
}

static int decode(const char *name, const char *fmtp)
{
	const struct codec_def *d = def_of(name);
	struct codec_params p;
	struct codec_dec *dec;
	uint8_t hdr[2], in[65536];
	int16_t pcm[CODEC_MAX_DECODE];

	params_of(d, fmtp, &p);
	if (codec_dec_create(d, &p, &dec)) {
		fprintf(stderr, "cannot create %s decoder\n", name);
		return 1;
	}
	while (fread(hdr, 1, 2, stdin) == 2) {
		size_t len = (size_t)hdr[0] << 8 | hdr[1];
		int n;

		if (fread(in, 1, len, stdin) != len)
			break;
		n = codec_decode(dec, in, len, pcm, CODEC_MAX_DECODE);
		if (n < 0) {
			fprintf(stderr, "decode: %d\n", n);
			continue;
		}
		fwrite(pcm, sizeof(pcm[0]), (size_t)n, stdout);
	}
	codec_dec_destroy(dec);
	return 0;
}

static int dtmf_gen(const char *digits, int on, int off, int dbm)
{
	dtmf_tx_state_t *tx = dtmf_tx_init(NULL);
	int16_t buf[160];
	int n;

	dtmf_tx_set_level(tx, -dbm, 0);
	dtmf_tx_set_timing(tx, on, off);
	dtmf_tx_put(tx, digits, -1);
	while ((n = dtmf_tx(tx, buf, 160)) > 0)
		fwrite(buf, sizeof(buf[0]), (size_t)n, stdout);
	memset(buf, 0, sizeof(buf));
	for (int i = 0; i < 10; i++)            /* trailing silence */
		fwrite(buf, sizeof(buf[0]), 160, stdout);
	dtmf_tx_free(tx);
	return 0;
}

static void got_digits(void *user, const char *digits, int len)
{
	(void)user;
	fwrite(digits, 1, (size_t)len, stdout);
}

static int dtmf_detect(void)
{
	dtmf_rx_state_t *rx = dtmf_rx_init(NULL, got_digits, NULL);
	int16_t buf[160];
	size_t n;

	while ((n = fread(buf, sizeof(buf[0]), 160, stdin)) > 0)
		dtmf_rx(rx, buf, (int)n);
	dtmf_rx_free(rx);
	putchar('\n');
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "available")) {
		const char *slash = strchr(argv[2], '/');
		size_t len = slash ? (size_t)(slash - argv[2]) : strlen(argv[2]);
		const struct codec_def *d = codec_find(argv[2], len,
						       slash ? (unsigned)atoi(slash + 1) : 0, 0);
		const char *why = "unknown codec";

		if (d && codec_available(d, &why))
			return 0;
		printf("%s\n", why);
		return 3;
	}
	if (argc >= 3 && !strcmp(argv[1], "rate")) {
		printf("%u\n", def_of(argv[2])->sample_rate);
		return 0;
	}
	if (argc >= 4 && !strcmp(argv[1], "encode"))
		return encode(argv[2], (unsigned)atoi(argv[3]), argc > 4 ? argv[4] : NULL);
	if (argc >= 3 && !strcmp(argv[1], "decode"))
		return decode(argv[2], argc > 3 ? argv[3] : NULL);
	if (argc >= 6 && !strcmp(argv[1], "dtmf-gen"))
		return dtmf_gen(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
	if (argc >= 2 && !strcmp(argv[1], "dtmf-detect"))
		return dtmf_detect();
	fprintf(stderr, "usage: see the comment at the top of t/tools/sluice-audio.c\n");
	return 2;
}
