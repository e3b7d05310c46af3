/* Codec registry, fmtp parsing and the checked dispatch into the per-codec ops. */
#include "codec_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AV_FLAGS (CODEC_F_AUDIO | CODEC_F_LIBAV)
/* what rtpengine writes for an AMR codec it adds; sluice reads octet-align, ignores
 * mode-change-capability */
#define AMR_FMTP "octet-align=1;mode-change-capability=2"

static const struct codec_def codec_defs[] = {
	{ "PCMU", CODEC_PCMU, 0, 8000, 8000, 1, 20, 1, CODEC_F_AUDIO | CODEC_F_PLC,
	  &codec_ops_pcmu },
	{ "PCMA", CODEC_PCMA, 8, 8000, 8000, 1, 20, 1, CODEC_F_AUDIO | CODEC_F_PLC,
	  &codec_ops_pcma },
	/* RFC 3551: G722 keeps an 8000 Hz RTP clock although it samples at 16 kHz */
	{ "G722", CODEC_G722, 9, 8000, 16000, 1, 20, 1, CODEC_F_AUDIO | CODEC_F_PLC,
	  &codec_ops_g722 },
	{ "opus", CODEC_OPUS, -1, 48000, 48000, 2, 20, 25,
	  CODEC_F_AUDIO | CODEC_F_ANY_RATE | CODEC_F_PLC, &codec_ops_opus },
	{ "G729", CODEC_G729, 18, 8000, 8000, 1, 20, 100, CODEC_F_AUDIO | CODEC_F_PLC,
	  &codec_ops_g729 },
	{ "telephone-event", CODEC_TELEPHONE_EVENT, -1, 8000, 8000, 1, 50, 0, 0, NULL },
	/* libavcodec (lib/codec_av.c); names, clocks and static types as in RFC 3551 and
	 * as rtpengine spells them */
	{ "GSM", CODEC_GSM, 3, 8000, 8000, 1, 20, 200, AV_FLAGS, &codec_ops_av },
	/* rtpengine's "speex" without a clock is speex/16000 */
	{ "speex", CODEC_SPEEX_WB, -1, 16000, 16000, 1, 20, 200, AV_FLAGS, &codec_ops_av },
	{ "speex", CODEC_SPEEX, -1, 8000, 8000, 1, 20, 200, AV_FLAGS, &codec_ops_av },
	{ "speex", CODEC_SPEEX_UWB, -1, 32000, 32000, 1, 20, 200, AV_FLAGS, &codec_ops_av },
	{ "G723", CODEC_G723, 4, 8000, 8000, 1, 30, 300, AV_FLAGS, &codec_ops_av },
	{ "iLBC", CODEC_ILBC, -1, 8000, 8000, 1, 30, 100, AV_FLAGS, &codec_ops_av },
	{ "L16", CODEC_L16, -1, 8000, 8000, 1, 20, 1, AV_FLAGS, &codec_ops_av },
	{ "L16", CODEC_L16_16K, -1, 16000, 16000, 1, 20, 1, AV_FLAGS, &codec_ops_av },
	/* 20 ms of 44.1/48 kHz L16 is more than a packet holds */
	{ "L16", CODEC_L16_44K, 11, 44100, 44100, 1, 10, 1, AV_FLAGS, &codec_ops_av },
	{ "L16", CODEC_L16_48K, -1, 48000, 48000, 1, 10, 1, AV_FLAGS, &codec_ops_av },
	{ "AMR", CODEC_AMR, -1, 8000, 8000, 1, 20, 200, AV_FLAGS, &codec_ops_av, AMR_FMTP },
	{ "AMR-WB", CODEC_AMR_WB, -1, 16000, 16000, 1, 20, 200, AV_FLAGS, &codec_ops_av,
	  AMR_FMTP },
};

_Static_assert(sizeof(codec_defs) / sizeof(codec_defs[0]) == CODEC__COUNT,
	       "codec_defs[] is indexed by enum codec_id");

const struct codec_def *codec_get(enum codec_id id)
{
	if ((unsigned)id >= CODEC__COUNT)
		return NULL;
	return &codec_defs[id];
}

const struct codec_def *codec_find(const char *name, size_t name_len, unsigned clock_rate,
				   unsigned channels)
{
	for (size_t i = 0; i < sizeof(codec_defs) / sizeof(codec_defs[0]); i++) {
		const struct codec_def *d = &codec_defs[i];

		if (strlen(d->name) != name_len || strncasecmp(d->name, name, name_len))
			continue;
		/* telephone-event runs on whatever clock its audio codec uses */
		if (clock_rate && clock_rate != d->clock_rate && d->id != CODEC_TELEPHONE_EVENT)
			continue;
		if (channels && channels != d->channels)
			continue;
		return d;
	}
	return NULL;
}

const struct codec_def *codec_by_static_pt(unsigned pt)
{
	for (size_t i = 0; i < sizeof(codec_defs) / sizeof(codec_defs[0]); i++)
		if (codec_defs[i].static_pt == (int)pt)
			return &codec_defs[i];
	return NULL;
}

bool codec_available(const struct codec_def *def, const char **why)
{
	if (why)
		*why = NULL;
	if (!def || !def->ops) {
		if (why)
			*why = "not an audio codec";
		return false;
	}
	if (!(def->flags & CODEC_F_LIBAV))
		return true;
	return codec_av_available(def, why);
}

static size_t append(char *buf, size_t cap, size_t at, const char *s)
{
	size_t n = strlen(s);

	if (at + 1 >= cap)
		return at;
	if (n > cap - at - 1)
		n = cap - at - 1;
	memcpy(buf + at, s, n);
	buf[at + n] = '\0';
	return at + n;
}

/* One entry per name/clock, as an operator writes it in a codec flag. */
static void def_name(const struct codec_def *d, char *out, size_t cap)
{
	bool several = false;

	for (unsigned i = 0; i < CODEC__COUNT; i++)
		several |= &codec_defs[i] != d && !strcmp(codec_defs[i].name, d->name);
	if (several)
		snprintf(out, cap, "%s/%u", d->name, d->clock_rate);
	else
		snprintf(out, cap, "%s", d->name);
}

void codec_describe(char *buf, size_t cap)
{
	size_t at = 0;
	char name[32];

	if (!cap)
		return;
	buf[0] = '\0';
	at = append(buf, cap, at, "codecs available:");
	for (unsigned i = 0; i < CODEC__COUNT; i++) {
		if (!codec_defs[i].ops || !codec_available(&codec_defs[i], NULL))
			continue;
		def_name(&codec_defs[i], name, sizeof(name));
		at = append(buf, cap, at, " ");
		at = append(buf, cap, at, name);
	}
	for (unsigned i = 0; i < CODEC__COUNT; i++) {
		const char *why;

		if (!codec_defs[i].ops || codec_available(&codec_defs[i], &why))
			continue;
		/* speex/L16 at several clocks share one reason */
		if (i && codec_defs[i - 1].ops == codec_defs[i].ops &&
		    !strcmp(codec_defs[i - 1].name, codec_defs[i].name))
			continue;
		at = append(buf, cap, at, "; ");
		at = append(buf, cap, at, why);
	}
}

void codec_params_default(const struct codec_def *def, struct codec_params *p)
{
	memset(p, 0, sizeof(*p));
	p->complexity = -1;
	p->annexb = def && def->id == CODEC_G729;
}

static bool opus_rate_ok(unsigned rate)
{
	return rate == 8000 || rate == 12000 || rate == 16000 || rate == 24000 || rate == 48000;
}

static bool is_l16(const struct codec_def *def)
{
	return def->id >= CODEC_L16 && def->id <= CODEC_L16_48K;
}

bool codec_frame_ok(const struct codec_def *def, unsigned rate, unsigned samples)
{
	unsigned long long t10;

	if (!def || !def->ops || !rate || !samples)
		return false;
	if ((unsigned long long)samples * 10000 % rate)
		return false;
	t10 = (unsigned long long)samples * 10000 / rate;       /* 0.1 ms units */
	if (t10 > CODEC_MAX_PTIME * 10 || t10 % def->frame_ms10)
		return false;
	if (def->id == CODEC_OPUS)
		return t10 <= 200 ? (t10 == 25 || t10 == 50 || t10 == 100 || t10 == 200)
				  : t10 % 200 == 0;
	if (def->id == CODEC_G722)
		return samples % 2 == 0;
	/* one libspeex frame per packet: speex frames are bit-packed back to back */
	if (def->id == CODEC_SPEEX || def->id == CODEC_SPEEX_WB || def->id == CODEC_SPEEX_UWB)
		return t10 == 200;
	if (is_l16(def))
		return samples * 2 <= CODEC_MAX_PAYLOAD;
	return true;
}

/* strtoul over a bounded, non-terminated value */
static int parse_uint(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (!n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > max)
			return -EINVAL;
	}
	*out = v;
	return 0;
}

static bool key_is(const char *k, size_t kn, const char *want)
{
	return strlen(want) == kn && !strncasecmp(k, want, kn);
}

/* mode-set=0,2,5,7 */
static int parse_mode_set(const struct codec_def *def, const char *v, size_t vn,
			  uint16_t *out)
{
	unsigned long max = def->id == CODEC_AMR_WB ? 8 : 7, n;
	uint16_t set = 0;
	size_t i = 0;

	while (i < vn) {
		size_t e = i;

		while (e < vn && v[e] != ',')
			e++;
		while (i < e && v[i] == ' ')
			i++;
		if (parse_uint(v + i, e - i, max, &n))
			return -EINVAL;
		set |= (uint16_t)(1u << n);
		i = e + 1;
	}
	if (!set)
		return -EINVAL;
	*out = set;
	return 0;
}

/* RFC 4867 8.1; mode-change-*, max-red and channels=1 change nothing here. */
static int amr_fmtp_apply(const struct codec_def *def, const char *k, size_t kn,
			  const char *v, size_t vn, struct codec_params *p)
{
	unsigned long n;

	if (key_is(k, kn, "mode-set"))
		return parse_mode_set(def, v, vn, &p->mode_set);
	if (key_is(k, kn, "octet-align")) {
		if (parse_uint(v, vn, 1, &n))
			return -EINVAL;
		p->octet_align = n;
	} else if (key_is(k, kn, "crc") || key_is(k, kn, "robust-sorting") ||
		   key_is(k, kn, "interleaving")) {
		if (parse_uint(v, vn, 65535, &n))
			return -EINVAL;
		if (n)
			p->amr_unsupported = true;
	}
	return 0;
}

static int fmtp_apply(const struct codec_def *def, const char *k, size_t kn,
		      const char *v, size_t vn, struct codec_params *p)
{
	unsigned long n;

	if (def->id == CODEC_G729 && key_is(k, kn, "annexb")) {
		if (vn == 3 && !strncasecmp(v, "yes", 3))
			p->annexb = true;
		else if (vn == 2 && !strncasecmp(v, "no", 2))
			p->annexb = false;
		else
			return -EINVAL;
		return 0;
	}
	if (def->id == CODEC_AMR || def->id == CODEC_AMR_WB)
		return amr_fmtp_apply(def, k, kn, v, vn, p);
	if (def->id != CODEC_OPUS)
		return 0;
	if (key_is(k, kn, "useinbandfec")) {
		if (parse_uint(v, vn, 1, &n))
			return -EINVAL;
		p->fec = n;
	} else if (key_is(k, kn, "stereo")) {
		if (parse_uint(v, vn, 1, &n))
			return -EINVAL;
		p->channels = n ? 2 : 1;
	} else if (key_is(k, kn, "maxaveragebitrate")) {
		if (parse_uint(v, vn, 510000, &n) || n < 6000)
			return -EINVAL;
		p->bitrate = n;
	}
	return 0;
}

int codec_fmtp_parse(const struct codec_def *def, const char *fmtp, size_t len,
		     struct codec_params *p)
{
	size_t i = 0;

	if (!def)
		return -EINVAL;
	while (i < len) {
		size_t ks, ke, vs, ve, end;
		int ret;

		while (i < len && (fmtp[i] == ' ' || fmtp[i] == '\t' || fmtp[i] == ';'))
			i++;
		for (end = i; end < len && fmtp[end] != ';'; end++)
			;
		ks = i;
		for (ke = ks; ke < end && fmtp[ke] != '='; ke++)
			;
		vs = ke < end ? ke + 1 : end;
		ve = end;
		while (ke > ks && (fmtp[ke - 1] == ' ' || fmtp[ke - 1] == '\t'))
			ke--;
		while (vs < ve && (fmtp[vs] == ' ' || fmtp[vs] == '\t'))
			vs++;
		while (ve > vs && (fmtp[ve - 1] == ' ' || fmtp[ve - 1] == '\t'))
			ve--;
		if (ke > ks) {
			ret = fmtp_apply(def, fmtp + ks, ke - ks, fmtp + vs, ve - vs, p);
			if (ret)
				return ret;
		}
		i = end;
	}
	return 0;
}

static int check_params(const struct codec_def *def, const struct codec_params *p,
			unsigned *rate, unsigned *channels)
{
	if (!def || !p)
		return -EINVAL;
	if (!def->ops)
		return -ENOTSUP;
	*rate = p->pcm_rate ? p->pcm_rate : def->sample_rate;
	*channels = p->channels ? p->channels : 1;
	if (def->flags & CODEC_F_ANY_RATE) {
		if (!opus_rate_ok(*rate))
			return -EINVAL;
	} else if (*rate != def->sample_rate) {
		return -EINVAL;
	}
	if (*channels > 2 || (*channels == 2 && def->channels != 2))
		return -EINVAL;
	if (p->complexity > 10 || p->loss_pct > 100)
		return -EINVAL;
	if ((def->flags & CODEC_F_LIBAV) && (!codec_available(def, NULL) || p->amr_unsupported))
		return -ENOTSUP;
	return 0;
}

int codec_enc_create(const struct codec_def *def, const struct codec_params *p,
		     struct codec_enc **out)
{
	struct codec_enc *e;
	unsigned rate, ch;
	int ret = check_params(def, p, &rate, &ch);

	if (ret)
		return ret;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->def = def;
	e->rate = rate;
	e->channels = ch;
	ret = def->ops->enc_init(e, p);
	if (ret) {
		free(e);
		return ret;
	}
	*out = e;
	return 0;
}

void codec_enc_destroy(struct codec_enc *e)
{
	if (!e)
		return;
	e->def->ops->enc_fini(e);
	free(e);
}

int codec_dec_create(const struct codec_def *def, const struct codec_params *p,
		     struct codec_dec **out)
{
	struct codec_dec *d;
	unsigned rate, ch;
	int ret = check_params(def, p, &rate, &ch);

	if (ret)
		return ret;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->def = def;
	d->rate = rate;
	d->channels = ch;
	ret = def->ops->dec_init(d, p);
	if (ret) {
		free(d);
		return ret;
	}
	*out = d;
	return 0;
}

void codec_dec_destroy(struct codec_dec *d)
{
	if (!d)
		return;
	d->def->ops->dec_fini(d);
	free(d);
}

unsigned codec_enc_rate(const struct codec_enc *e) { return e->rate; }
unsigned codec_enc_channels(const struct codec_enc *e) { return e->channels; }
unsigned codec_dec_rate(const struct codec_dec *d) { return d->rate; }
unsigned codec_dec_channels(const struct codec_dec *d) { return d->channels; }

int codec_encode(struct codec_enc *e, const int16_t *pcm, unsigned samples,
		 uint8_t *out, size_t out_size)
{
	if (!codec_frame_ok(e->def, e->rate, samples))
		return -EINVAL;
	return e->def->ops->encode(e, pcm, samples, out, out_size);
}

int codec_decode(struct codec_dec *d, const uint8_t *payload, size_t len,
		 int16_t *pcm, unsigned max)
{
	if (!payload || !len)
		return -EINVAL;
	return d->def->ops->decode(d, payload, len, pcm, max);
}

int codec_conceal(struct codec_dec *d, const uint8_t *next, size_t next_len,
		  unsigned samples, int16_t *pcm, unsigned max)
{
	if (samples > max)
		return -EMSGSIZE;
	if (!samples)
		return 0;
	if (!next_len)
		next = NULL;
	return d->def->ops->conceal(d, next, next_len, samples, pcm);
}

int codec_dec_cmr(const struct codec_dec *d)
{
	return d->def->ops->cmr ? d->def->ops->cmr(d) : -1;
}

int codec_enc_set_mode(struct codec_enc *e, unsigned mode)
{
	return e->def->ops->set_mode ? e->def->ops->set_mode(e, mode) : -ENOTSUP;
}
