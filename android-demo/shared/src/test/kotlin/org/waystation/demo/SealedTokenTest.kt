package org.waystation.demo

import java.security.KeyStoreException
import java.util.Base64
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * The sealed token and the account store, with a software AES-256 key standing in for the
 * app's Android Keystore key (the same javax.crypto calls; the Keystore itself needs a phone).
 */
class SealedTokenTest {
    private val token = "wst_3q2-example-token"
    private val key = aesKey()

    private fun aesKey(): SecretKey = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()

    private fun decode(sealed: String) = Base64.getDecoder().decode(sealed)
    private fun encode(bytes: ByteArray) = Base64.getEncoder().encodeToString(bytes)

    /** SharedPreferences as a map. */
    private class MapStore(val values: MutableMap<String, String> = mutableMapOf()) : StringStore {
        override fun get(name: String) = values[name]
        override fun edit(changes: Map<String, String?>) = changes.forEach { (name, value) ->
            if (value == null) values.remove(name) else values[name] = value
        }
    }

    @Test
    fun `a sealed token opens with its key, and its form is version, IV, ciphertext and tag`() {
        val sealed = SealedToken.seal(token, key)
        assertEquals(token, SealedToken.open(sealed, key))
        val bytes = decode(sealed)
        assertEquals(SealedToken.VERSION, bytes[0])
        assertEquals(1 + SealedToken.IV_BYTES + token.length + SealedToken.TAG_BYTES, bytes.size)
        assertFalse(String(bytes, Charsets.ISO_8859_1).contains("example-token"))
        // A new IV at each seal: the same token never seals the same way twice.
        assertNotEquals(sealed, SealedToken.seal(token, key))
        assertEquals("令牌", SealedToken.open(SealedToken.seal("令牌", key), key))
    }

    @Test
    fun `an altered sealed token is refused, wherever the change is`() {
        val bytes = decode(SealedToken.seal(token, key))
        for (at in listOf(1, 1 + SealedToken.IV_BYTES, bytes.size - 1)) {
            val altered = bytes.copyOf().also { it[at] = (it[at].toInt() xor 1).toByte() }
            val e = assertThrows<SealedTokenException> { SealedToken.open(encode(altered), key) }
            assertEquals("the sealed token does not match its key: altered, or sealed with another key", e.message)
        }
        // Another key (the Keystore key wiped, a new one made) fails the same way.
        val e = assertThrows<SealedTokenException> { SealedToken.open(encode(bytes), aesKey()) }
        assertTrue(e.message!!.startsWith("the sealed token does not match its key"))
    }

    @Test
    fun `a sealed token of an unknown version is refused`() {
        val bytes = decode(SealedToken.seal(token, key)).also { it[0] = 2 }
        val e = assertThrows<SealedTokenException> { SealedToken.open(encode(bytes), key) }
        assertEquals("sealed token of unknown version 2 (this app reads 1)", e.message)
    }

    @Test
    fun `a truncated sealed token is refused`() {
        val bytes = decode(SealedToken.seal(token, key))
        val short = assertThrows<SealedTokenException> { SealedToken.open(encode(bytes.copyOf(20)), key) }
        assertEquals("truncated sealed token: 20 bytes, at least 29 expected", short.message)
        // Long enough for the format, but the tag is cut: GCM refuses it.
        val cut = assertThrows<SealedTokenException> { SealedToken.open(encode(bytes.copyOf(bytes.size - 3)), key) }
        assertTrue(cut.message!!.startsWith("the sealed token does not match its key"))
        assertEquals("not a sealed token: empty", assertThrows<SealedTokenException> { SealedToken.open("", key) }.message)
        assertEquals("not a sealed token: not base64", assertThrows<SealedTokenException> { SealedToken.open("%%%", key) }.message)
    }

    @Test
    fun `the store keeps the server in plain and the token only sealed`() {
        val prefs = MapStore()
        val store = SyncAccountStore(prefs, TokenKey { key })
        assertNull(store.read())
        store.write(SyncAccount("https://sync.example.org", token))
        assertEquals(setOf(SyncAccountStore.SERVER, SyncAccountStore.SEALED_TOKEN), prefs.values.keys)
        assertEquals("https://sync.example.org", prefs.values[SyncAccountStore.SERVER])
        assertFalse(prefs.values.values.any { token in it })
        assertEquals(token, SealedToken.open(prefs.values.getValue(SyncAccountStore.SEALED_TOKEN), key))
        // A new store (the app started again) opens it with the same key.
        assertEquals(SyncAccount("https://sync.example.org", token), SyncAccountStore(prefs, TokenKey { key }).read())
        store.write(null)
        assertTrue(prefs.values.isEmpty())
        assertNull(store.read())
    }

    @Test
    fun `an empty, garbage or unopenable stored token reads as not set up`() {
        val server = SyncAccountStore.SERVER to "https://sync.example.org"
        val unopenable = listOf(
            "",
            "not base64 at all!",
            encode(byteArrayOf(1, 2, 3)),
            SealedToken.seal(token, aesKey()), // the Keystore key was wiped and made again
            encode(decode(SealedToken.seal(token, key)).also { it[0] = 9 }),
        )
        for (stored in unopenable) {
            val prefs = MapStore(mutableMapOf(server, SyncAccountStore.SEALED_TOKEN to stored))
            val store = SyncAccountStore(prefs, TokenKey { key })
            assertNull(store.read(), stored)
            // Left in place until the rider saves the token again.
            assertEquals(stored, prefs.values[SyncAccountStore.SEALED_TOKEN])
            store.write(SyncAccount("https://sync.example.org", token))
            assertEquals(token, store.read()?.token)
        }
    }

    @Test
    fun `a key the Keystore cannot give reads as not set up, and a save says why`() {
        val prefs = MapStore()
        SyncAccountStore(prefs, TokenKey { key }).write(SyncAccount("https://sync.example.org", token))
        val broken = SyncAccountStore(prefs, TokenKey { throw KeyStoreException("keystore daemon unavailable") })
        assertNull(broken.read())
        val e = assertThrows<SealedTokenException> { broken.write(SyncAccount("https://sync.example.org", "other")) }
        assertEquals("the token's key is not available: keystore daemon unavailable", e.message)
        // Nothing was saved: the old token is still there.
        assertEquals(token, SyncAccountStore(prefs, TokenKey { key }).read()?.token)
    }

    @Test
    fun `the old demo's plain token is sealed on first read and the plain copy removed`() {
        val prefs = MapStore(mutableMapOf(SyncAccountStore.SERVER to "https://sync.example.org", SyncAccountStore.PLAIN_TOKEN to token))
        val store = SyncAccountStore(prefs, TokenKey { key })
        assertEquals(SyncAccount("https://sync.example.org", token), store.read())
        assertNull(prefs.values[SyncAccountStore.PLAIN_TOKEN])
        assertEquals(token, SealedToken.open(prefs.values.getValue(SyncAccountStore.SEALED_TOKEN), key))
        assertEquals(token, SyncAccountStore(prefs, TokenKey { key }).read()?.token)
    }

    @Test
    fun `a plain token that cannot be sealed yet is kept and used, and sealed later`() {
        val prefs = MapStore(mutableMapOf(SyncAccountStore.SERVER to "https://sync.example.org", SyncAccountStore.PLAIN_TOKEN to token))
        var available = false
        val store = SyncAccountStore(prefs, TokenKey { if (available) key else throw KeyStoreException("not yet") })
        assertEquals(token, store.read()?.token)
        assertEquals(token, prefs.values[SyncAccountStore.PLAIN_TOKEN])
        available = true
        assertEquals(token, store.read()?.token)
        assertEquals(setOf(SyncAccountStore.SERVER, SyncAccountStore.SEALED_TOKEN), prefs.values.keys)
    }
}
