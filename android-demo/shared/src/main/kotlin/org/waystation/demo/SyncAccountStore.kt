package org.waystation.demo

import java.security.GeneralSecurityException
import java.security.ProviderException
import javax.crypto.SecretKey

/** The strings [SyncAccountStore] keeps: SharedPreferences in the app, a map in the tests. */
interface StringStore {
    fun get(name: String): String?

    /** Applies all of [changes] in one edit; a null value removes the name. */
    fun edit(changes: Map<String, String?>)
}

/**
 * The sync account at rest: the server's URL in plain text, the token only sealed with [key]
 * ([SealedToken]). The sync screen and the background worker both use it, from any thread.
 *
 * A sealed token that cannot be opened reads as "not set up", never as a crash: the rider
 * enters the token again on the Sync screen, and saving seals it under the current key.
 * That is what happens when the preferences outlive the key: the Keystore key never leaves
 * the phone, so preferences copied to a new phone (a device-to-device transfer) or a key
 * lost to a Keystore reset leave a token nobody can open. The unreadable value is left in
 * place (a passing Keystore failure does not lose the token) until the next save replaces it.
 */
class SyncAccountStore(private val store: StringStore, private val key: TokenKey) {
    /** The last token opened, with its sealed form: saves a Keystore call at every read. */
    private var opened: Pair<String, String>? = null

    /** The account, or null when it is not set up or its token cannot be opened. */
    @Synchronized
    fun read(): SyncAccount? {
        val token = migratePlainToken() ?: openToken(store.get(SEALED_TOKEN))
        val server = store.get(SERVER)
        if (server == null || token == null) return null
        return try {
            SyncAccount(server, token)
        } catch (e: IllegalArgumentException) {
            null
        }
    }

    /**
     * Saves [account], sealing its token, or forgets it when null. Throws
     * [SealedTokenException] when the key cannot seal it; nothing is saved then.
     */
    @Synchronized
    fun write(account: SyncAccount?) {
        val sealed = account?.let { seal(it.token) }
        store.edit(mapOf(SERVER to account?.server, SEALED_TOKEN to sealed, PLAIN_TOKEN to null))
        opened = if (account != null && sealed != null) sealed to account.token else null
    }

    /**
     * The old demo kept the token in plain text: seal it in place and drop the plain copy. If
     * the key cannot seal it now, the plain copy stays (as the old demo had it) and is still
     * used, and the next read tries again: the rider's account is not lost.
     */
    private fun migratePlainToken(): String? {
        val plain = store.get(PLAIN_TOKEN) ?: return null
        val sealed = try {
            seal(plain)
        } catch (e: SealedTokenException) {
            return plain
        }
        store.edit(mapOf(SEALED_TOKEN to sealed, PLAIN_TOKEN to null))
        opened = sealed to plain
        return plain
    }

    /** The token in [sealed]; null when there is none or it cannot be opened (see above). */
    private fun openToken(sealed: String?): String? {
        if (sealed.isNullOrEmpty()) return null
        opened?.let { (s, token) -> if (s == sealed) return token }
        return try {
            SealedToken.open(sealed, secretKey()).also { opened = sealed to it }
        } catch (e: SealedTokenException) {
            null
        }
    }

    private fun seal(token: String): String = SealedToken.seal(token, secretKey())

    private fun secretKey(): SecretKey = try {
        key.secretKey()
    } catch (e: GeneralSecurityException) {
        throw SealedTokenException("the token's key is not available: ${e.message ?: e.javaClass.simpleName}", e)
    } catch (e: ProviderException) {
        throw SealedTokenException("the token's key is not available: ${e.message ?: e.javaClass.simpleName}", e)
    }

    companion object {
        const val SERVER = "sync_server"
        const val SEALED_TOKEN = "sync_token_sealed"

        /** Where the old demo kept the token in plain text; only read to migrate it. */
        const val PLAIN_TOKEN = "sync_token"
    }
}
