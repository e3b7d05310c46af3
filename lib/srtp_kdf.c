/* SRTP key derivation (RFC 3711 4.3), key derivation rate 0: each session key is the
 * AES-CM keystream of the master key at IV = (master salt XOR label << 48) << 16. */
#include "srtp_internal.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

static const EVP_CIPHER *ctr_of(size_t klen)
{
	switch (klen) {
	case 16: return EVP_aes_128_ctr();
	case 24: return EVP_aes_192_ctr();
	case 32: return EVP_aes_256_ctr();
	default: return NULL;
	}
}

int srtpx_kdf(const uint8_t *mkey, size_t mkey_len, const uint8_t *msalt, size_t msalt_len,
	     uint8_t label, uint8_t *out, size_t len)
{
	const EVP_CIPHER *ciph = ctr_of(mkey_len);
	uint8_t iv[16] = { 0 };
	EVP_CIPHER_CTX *ctx;
	int n, ret = -EIO;

	if (!ciph || msalt_len > 14 || len > 256)
		return -EINVAL;
	/* key_id = label || (index DIV kdr = 0), 56 bits, right-aligned on the 112-bit
	 * salt: the label lands on byte 7. A 96-bit salt fills bytes 0..11. */
	memcpy(iv, msalt, msalt_len);
	iv[7] ^= label;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	memset(out, 0, len);
	if (EVP_EncryptInit_ex(ctx, ciph, NULL, mkey, iv) == 1 &&
	    EVP_EncryptUpdate(ctx, out, &n, out, (int)len) == 1 && (size_t)n == len)
		ret = 0;
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(iv, sizeof(iv));
	return ret;
}
