/* Whole-file decode to mono S16 through libavformat, libavcodec and libswresample
 * (see sluice/audio_file.h). */
#include "sluice/audio_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
#include <libswresample/swresample.h>

#define AVIO_BUF 4096

struct blob_io {                        /* the "blob" key's bytes as an AVIOContext */
	const uint8_t *p;
	size_t len, pos;
};

struct decode {
	AVFormatContext *fmt;
	AVIOContext *avio;
	struct blob_io bio;
	AVCodecContext *dec;
	SwrContext *swr;
	AVPacket *pkt;
	AVFrame *frame;
	int stream;
	size_t skip;                    /* output samples still to drop (start_pos) */
	size_t max;                     /* output samples at most */
	size_t cap;
	struct audio_pcm *out;
};

static int blob_read(void *opaque, uint8_t *buf, int size)
{
	struct blob_io *b = opaque;
	size_t left = b->len - b->pos, n = (size_t)size < left ? (size_t)size : left;

	if (!n)
		return AVERROR_EOF;
	memcpy(buf, b->p + b->pos, n);
	b->pos += n;
	return (int)n;
}

static int64_t blob_seek(void *opaque, int64_t off, int whence)
{
	struct blob_io *b = opaque;
	int64_t base;

	whence &= ~AVSEEK_FORCE;
	if (whence == AVSEEK_SIZE)
		return (int64_t)b->len;
	base = whence == SEEK_CUR ? (int64_t)b->pos : whence == SEEK_END ? (int64_t)b->len : 0;
	if (base + off < 0 || base + off > (int64_t)b->len)
		return -1;
	b->pos = (size_t)(base + off);
	return (int64_t)b->pos;
}

static int open_blob(struct decode *d, const void *blob, size_t len)
{
	uint8_t *buf = av_malloc(AVIO_BUF);

	d->bio = (struct blob_io){ .p = blob, .len = len };
	if (!buf || !(d->fmt = avformat_alloc_context()))
		goto fail;
	d->avio = avio_alloc_context(buf, AVIO_BUF, 0, &d->bio, blob_read, NULL, blob_seek);
	if (!d->avio)
		goto fail;
	d->fmt->pb = d->avio;
	d->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	return 0;
fail:
	if (!d->avio)
		av_free(buf);
	return -ENOMEM;
}

static int open_input(struct decode *d, const char *path, const void *blob, size_t len,
		      const char **why)
{
	int r;

	if (!path && (r = open_blob(d, blob, len))) {
		*why = "Out of memory";
		return r;
	}
	r = avformat_open_input(&d->fmt, path, NULL, NULL);    /* frees fmt on failure */
	if (r < 0) {
		if (r == AVERROR(ENOENT) || r == AVERROR(EACCES) || r == AVERROR(EISDIR)) {
			*why = "Cannot open the media file";
			return r == AVERROR(EACCES) ? -EACCES : -ENOENT;
		}
		*why = "Not a media file sluice can read";
		return -EINVAL;
	}
	if (avformat_find_stream_info(d->fmt, NULL) < 0) {
		*why = "Corrupt media file (no stream information)";
		return -EINVAL;
	}
	return 0;
}

static int open_decoder(struct decode *d, const char **why)
{
	const AVCodec *codec = NULL;
	AVStream *st;

	d->stream = av_find_best_stream(d->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
	if (d->stream < 0 || !codec) {
		*why = "No audio stream in the media file that sluice can decode";
		return -EINVAL;
	}
	st = d->fmt->streams[d->stream];
	d->dec = avcodec_alloc_context3(codec);
	if (!d->dec) {
		*why = "Out of memory";
		return -ENOMEM;
	}
	if (avcodec_parameters_to_context(d->dec, st->codecpar) < 0 ||
	    avcodec_open2(d->dec, codec, NULL) < 0 || d->dec->sample_rate <= 0) {
		*why = "Cannot decode the media file's audio";
		return -EINVAL;
	}
	return 0;
}

static int open_resampler(struct decode *d, unsigned rate, const char **why)
{
	AVChannelLayout in = { 0 }, mono = AV_CHANNEL_LAYOUT_MONO;

	if (av_channel_layout_check(&d->dec->ch_layout))
		av_channel_layout_copy(&in, &d->dec->ch_layout);
	else
		av_channel_layout_default(&in, d->dec->ch_layout.nb_channels > 0 ?
					  d->dec->ch_layout.nb_channels : 1);
	if (swr_alloc_set_opts2(&d->swr, &mono, AV_SAMPLE_FMT_S16, (int)rate, &in,
				d->dec->sample_fmt, d->dec->sample_rate, 0, NULL) < 0 ||
	    swr_init(d->swr) < 0) {
		av_channel_layout_uninit(&in);
		*why = "Cannot resample the media file's audio";
		return -EINVAL;
	}
	av_channel_layout_uninit(&in);
	return 0;
}

static int grow(struct decode *d, size_t need)
{
	int16_t *p;
	size_t cap = d->cap ? d->cap : 8000;

	if (need <= d->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	p = realloc(d->out->pcm, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	d->out->pcm = p;
	d->cap = cap;
	return 0;
}

/* Converts one decoded frame (NULL: the resampler's tail) and appends it. */
static int append(struct decode *d, const AVFrame *f)
{
	int in = f ? f->nb_samples : 0;
	int room = swr_get_out_samples(d->swr, in);
	uint8_t *o;
	int got;

	if (room <= 0)
		return 0;
	if (grow(d, d->out->n + (size_t)room))
		return -ENOMEM;
	o = (uint8_t *)(d->out->pcm + d->out->n);
	got = swr_convert(d->swr, &o, room, f ? (const uint8_t **)f->extended_data : NULL, in);
	if (got < 0)
		return -EINVAL;
	if (f)
		d->out->src_frames += (uint64_t)f->nb_samples;
	if (d->skip) {                  /* start-pos: drop the head */
		size_t k = d->skip < (size_t)got ? d->skip : (size_t)got;

		memmove(d->out->pcm + d->out->n, d->out->pcm + d->out->n + k,
			((size_t)got - k) * sizeof(int16_t));
		d->skip -= k;
		got -= (int)k;
	}
	d->out->n += (size_t)got;
	return d->out->n > d->max ? -EFBIG : 0;
}

/* Drains decoded frames. AVERROR(EAGAIN)/EOF end the drain normally. */
static int drain(struct decode *d)
{
	int r;

	while ((r = avcodec_receive_frame(d->dec, d->frame)) >= 0) {
		r = append(d, d->frame);
		av_frame_unref(d->frame);
		if (r)
			return r;
	}
	return r == AVERROR(EAGAIN) || r == AVERROR_EOF ? 0 : -EINVAL;
}

static int run(struct decode *d, const char **why)
{
	int r = 0, bad = 0;

	while (!r && av_read_frame(d->fmt, d->pkt) >= 0) {
		if (d->pkt->stream_index == d->stream) {
			/* a damaged packet in the middle is skipped, as players do; a file
			 * that decodes to nothing is refused below */
			if (avcodec_send_packet(d->dec, d->pkt) < 0)
				bad++;
			else
				r = drain(d);
		}
		av_packet_unref(d->pkt);
	}
	if (!r && avcodec_send_packet(d->dec, NULL) >= 0)
		r = drain(d);
	if (!r)
		r = append(d, NULL);
	if (r == -EFBIG)
		*why = "Media file too long to play";
	else if (r == -ENOMEM)
		*why = "Out of memory";
	else if (r || (!d->out->n && bad))
		*why = "Corrupt media file";
	else if (!d->out->n)
		*why = "Nothing to play (empty file, or start-pos past its end)";
	if (!r && !d->out->n)
		r = bad ? -EINVAL : -ENODATA;
	return r;
}

static void close_all(struct decode *d)
{
	av_frame_free(&d->frame);
	av_packet_free(&d->pkt);
	swr_free(&d->swr);
	avcodec_free_context(&d->dec);
	avformat_close_input(&d->fmt);
	avformat_free_context(d->fmt);
	if (d->avio) {
		av_freep(&d->avio->buffer);
		avio_context_free(&d->avio);
	}
}

int audio_file_load(const char *path, const void *blob, size_t blob_len, unsigned rate,
		    uint64_t start_pos, unsigned max_ms, struct audio_pcm *out,
		    const char **why)
{
	struct decode d = { .out = out, .max = (size_t)max_ms * rate / 1000 };
	int r;

	/* FFmpeg's warnings about one file are not the daemon's log's business */
	av_log_set_level(AV_LOG_ERROR);
	memset(out, 0, sizeof(*out));
	out->rate = rate;
	if (rate < 8000 || rate > 48000 || (!path && (!blob || !blob_len))) {
		*why = "Invalid media source";
		return -EINVAL;
	}
	if ((r = open_input(&d, path, blob, blob_len, why)) || (r = open_decoder(&d, why)) ||
	    (r = open_resampler(&d, rate, why)))
		goto done;
	out->src_rate = (unsigned)d.dec->sample_rate;
	d.skip = (size_t)(start_pos * rate / out->src_rate);
	d.pkt = av_packet_alloc();
	d.frame = av_frame_alloc();
	if (!d.pkt || !d.frame) {
		*why = "Out of memory";
		r = -ENOMEM;
		goto done;
	}
	r = run(&d, why);
done:
	close_all(&d);
	if (r)
		audio_pcm_free(out);
	return r;
}

void audio_pcm_free(struct audio_pcm *p)
{
	free(p->pcm);
	p->pcm = NULL;
	p->n = 0;
}
