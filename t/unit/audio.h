/* Signal generation and measurement shared by the codec and transcode tests.
 * Measurements fit sinusoids of known integer frequencies over a whole number of
 * seconds, where they are orthogonal, so codec delay does not matter. */
#ifndef SLUICE_T_AUDIO_H
#define SLUICE_T_AUDIO_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define AU_PI 3.14159265358979323846

/* Sum of tones (integer Hz) with the given amplitudes (full scale 32767). */
static inline void au_tones(int16_t *out, size_t n, unsigned rate, size_t start,
			    const unsigned *freq, const double *amp, unsigned k)
{
	for (size_t i = 0; i < n; i++) {
		double v = 0;

		for (unsigned j = 0; j < k; j++)
			v += amp[j] * sin(2 * AU_PI * freq[j] * (double)(start + i) / rate);
		out[i] = (int16_t)lrint(v);
	}
}

struct au_fit {
	double amp[8];          /* fitted amplitude per tone */
	double snr_db;          /* fitted tones vs everything else */
	double rms;
};

/* Least-squares fit of the k tones over x[0..n) (n = whole seconds at rate). */
static inline void au_fit(const int16_t *x, size_t n, unsigned rate,
			  const unsigned *freq, unsigned k, struct au_fit *f)
{
	double a[8], b[8], sig = 0, res = 0, tot = 0;

	for (unsigned j = 0; j < k; j++) {
		a[j] = b[j] = 0;
		for (size_t i = 0; i < n; i++) {
			double w = 2 * AU_PI * freq[j] * (double)i / rate;

			a[j] += x[i] * cos(w);
			b[j] += x[i] * sin(w);
		}
		a[j] *= 2.0 / n;
		b[j] *= 2.0 / n;
		f->amp[j] = sqrt(a[j] * a[j] + b[j] * b[j]);
	}
	for (size_t i = 0; i < n; i++) {
		double m = 0;

		for (unsigned j = 0; j < k; j++) {
			double w = 2 * AU_PI * freq[j] * (double)i / rate;

			m += a[j] * cos(w) + b[j] * sin(w);
		}
		sig += m * m;
		res += (x[i] - m) * (x[i] - m);
		tot += (double)x[i] * x[i];
	}
	f->rms = sqrt(tot / n);
	f->snr_db = res > 0 ? 10 * log10(sig / res) : 200;
}

/* Goertzel power of one frequency (any real Hz). */
static inline double au_goertzel(const int16_t *x, size_t n, unsigned rate, double freq)
{
	double c = 2 * cos(2 * AU_PI * freq / rate), s1 = 0, s2 = 0;

	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + c * s1 - s2;

		s2 = s1;
		s1 = s0;
	}
	return (s1 * s1 + s2 * s2 - c * s1 * s2) / ((double)n * n);
}

/* Strongest frequency in [lo, hi] Hz, searched in 1 Hz steps with Goertzel. */
static inline double au_peak_freq(const int16_t *x, size_t n, unsigned rate,
				  double lo, double hi)
{
	double best = lo, bp = -1;

	for (double f = lo; f <= hi; f += 1) {
		double p = au_goertzel(x, n, rate, f);

		if (p > bp) {
			bp = p;
			best = f;
		}
	}
	return best;
}

#endif
