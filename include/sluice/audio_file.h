/* An audio file (or a file's bytes in memory) decoded whole into mono S16 PCM at a
 * chosen rate, through libavformat/libavcodec (any container and codec FFmpeg reads:
 * WAV, MP3, Ogg/Opus, FLAC, ...) and libswresample.
 *
 * This is the NG "play media" decoder: it runs on the control thread when the command
 * arrives, so the media path only copies samples out of the finished buffer. Cost: one
 * pass over the file; memory 2 bytes per sample at the output rate (10 min at 48 kHz:
 * 55 MB, hence the caller's max_ms bound). */
#ifndef SLUICE_AUDIO_FILE_H
#define SLUICE_AUDIO_FILE_H

#include <stddef.h>
#include <stdint.h>

struct audio_pcm {
	int16_t *pcm;           /* owned, malloc'd */
	size_t n;               /* samples */
	unsigned rate;          /* Hz */
	uint64_t src_frames;    /* samples of the file's own rate before start_pos cut */
	unsigned src_rate;      /* the file's own sample rate */
};

/* Decode `path`, or when path is NULL the `blob` of blob_len bytes, into *out at `rate`
 * (8000..48000), mixed down to mono, skipping the first start_pos samples of the file's
 * own rate (rtpengine's "start-pos" frame position). More than max_ms of audio after
 * the skip: -EFBIG. 0, or -errno with a static reason in *why: -ENOENT/-EACCES (cannot
 * open), -EINVAL (not an audio file FFmpeg knows, corrupt, or no audio stream),
 * -ENODATA (nothing left to play), -ENOMEM. */
int audio_file_load(const char *path, const void *blob, size_t blob_len, unsigned rate,
		    uint64_t start_pos, unsigned max_ms, struct audio_pcm *out,
		    const char **why);
void audio_pcm_free(struct audio_pcm *p);

#endif
