package org.waystation.demo

import java.security.GeneralSecurityException
import java.security.ProviderException
import java.util.Base64
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * The sync token at rest: sealed with AES-256-GCM under a key the app cannot read. In the app
 * that key lives in the Android Keystore (`KeystoreTokenKey`, app/src/main); the JVM tests use
 * a software key. Only the sealed form is written to SharedPreferences ([SyncAccountStore]).
 */

/** The key that seals the sync token, made on first use. Failures are thrown as they come. */
fun interface TokenKey {
    fun secretKey(): SecretKey
}

/** A token that could not be sealed or opened, and why. */
class SealedTokenException(message: String, cause: Throwable? = null) : Exception(message, cause)

/**
 * The sealed form: base64 (no line breaks) of
 *
 *     version (1 byte, 1) | IV (12 bytes) | ciphertext and GCM tag (16 bytes)
 *
 * The version byte is also GCM's associated data, so it cannot be changed without the tag
 * failing. The IV is new at each seal and chosen by the cipher: the Keystore refuses an IV
 * from the caller when it encrypts.
 */
object SealedToken {
    const val VERSION: Byte = 1
    const val IV_BYTES = 12
    const val TAG_BYTES = 16
    private const val TRANSFORMATION = "AES/GCM/NoPadding"

    /** [token] sealed with [key]; throws [SealedTokenException] when the key cannot encrypt. */
    fun seal(token: String, key: SecretKey): String {
        val bytes = crypto("the key could not seal the token") {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.ENCRYPT_MODE, key)
            val iv = cipher.iv
            if (iv == null || iv.size != IV_BYTES) {
                throw SealedTokenException("the cipher chose a ${iv?.size ?: 0}-byte IV, not $IV_BYTES")
            }
            cipher.updateAAD(byteArrayOf(VERSION))
            byteArrayOf(VERSION) + iv + cipher.doFinal(token.toByteArray(Charsets.UTF_8))
        }
        return Base64.getEncoder().encodeToString(bytes)
    }

    /** The token in [sealed]; throws [SealedTokenException] saying why it cannot be opened. */
    fun open(sealed: String, key: SecretKey): String {
        val bytes = try {
            Base64.getDecoder().decode(sealed)
        } catch (e: IllegalArgumentException) {
            throw SealedTokenException("not a sealed token: not base64", e)
        }
        if (bytes.isEmpty()) throw SealedTokenException("not a sealed token: empty")
        if (bytes[0] != VERSION) throw SealedTokenException("sealed token of unknown version ${bytes[0]} (this app reads $VERSION)")
        val least = 1 + IV_BYTES + TAG_BYTES
        if (bytes.size < least) throw SealedTokenException("truncated sealed token: ${bytes.size} bytes, at least $least expected")
        val plain = crypto("the key could not open the token") {
            val cipher = Cipher.getInstance(TRANSFORMATION)
            cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BYTES * 8, bytes, 1, IV_BYTES))
            cipher.updateAAD(bytes, 0, 1)
            try {
                cipher.doFinal(bytes, 1 + IV_BYTES, bytes.size - 1 - IV_BYTES)
            } catch (e: AEADBadTagException) {
                throw SealedTokenException("the sealed token does not match its key: altered, or sealed with another key", e)
            }
        }
        return String(plain, Charsets.UTF_8)
    }

    /**
     * Runs [block], turning the JCA's failures into [SealedTokenException]. The Keystore also
     * throws ProviderException (unchecked) when its daemon refuses an operation.
     */
    private fun <T> crypto(what: String, block: () -> T): T = try {
        block()
    } catch (e: GeneralSecurityException) {
        throw SealedTokenException("$what: ${e.message ?: e.javaClass.simpleName}", e)
    } catch (e: ProviderException) {
        throw SealedTokenException("$what: ${e.message ?: e.javaClass.simpleName}", e)
    }
}
