package org.waystation.demo.android

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyProperties
import java.security.KeyStore
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import org.waystation.demo.TokenKey

/**
 * The key that seals the sync token (org.waystation.demo.SealedToken): AES-256 for GCM in the
 * Android Keystore, made on first use. Its material never enters the app's memory (in secure
 * hardware where the phone has it); the app holds a handle that can only encrypt and decrypt.
 *
 * No user authentication and no "unlocked device" requirement: the WorkManager job syncs with
 * the screen locked. The key is deleted with the app and never leaves the phone (not in
 * backups, not in a device-to-device transfer): see SyncAccountStore for what happens then.
 */
object KeystoreTokenKey : TokenKey {
    private const val PROVIDER = "AndroidKeyStore"
    private const val ALIAS = "waystation-sync-token"

    @Synchronized
    override fun secretKey(): SecretKey {
        val keyStore = KeyStore.getInstance(PROVIDER).apply { load(null) }
        (keyStore.getKey(ALIAS, null) as? SecretKey)?.let { return it }
        val spec = KeyGenParameterSpec.Builder(ALIAS, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .build()
        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, PROVIDER)
        generator.init(spec)
        return generator.generateKey()
    }
}
